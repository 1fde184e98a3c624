// An spdlog sink that hands each record to the kernel with one write(2) and takes no lock.
//
// The access log writes one line per request from every worker thread. spdlog's stdout_sink_mt
// serialises them on a process-wide mutex and holds it across fwrite and fflush, so under load
// the workers queue behind each other's system calls. Here each line is whole in one write: a
// pipe keeps writes up to PIPE_BUF (4 KiB) intact, and regular-file writes are serialised by the
// kernel on the file position; a line longer than that to a pipe may interleave with another,
// which is the price of never blocking one worker on another.
#pragma once

#include <spdlog/details/log_msg.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

#include <unistd.h>

#include <cerrno>
#include <string>

namespace pier::dataplane::http {

class LineSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit LineSink(int fd) noexcept : fd_(fd) {}

 protected:
  // The record is the line (the access log formats it completely): the formatter is not used,
  // as spdlog's pattern formatter keeps per-call state that is not safe across threads.
  void sink_it_(const spdlog::details::log_msg& msg) override {
    thread_local std::string line;
    line.assign(msg.payload.data(), msg.payload.size());
    line.push_back('\n');
    WriteAll(line.data(), line.size());
  }
  void flush_() override {}  // nothing is buffered

 private:
  void WriteAll(const char* data, std::size_t size) noexcept {
    while (size > 0) {
      ssize_t written = ::write(fd_, data, size);
      if (written < 0) {
        if (errno == EINTR) continue;
        return;  // stdout closed or broken: logging must not take the proxy down with it
      }
      data += written;
      size -= static_cast<std::size_t>(written);
    }
  }

  int fd_;
};

}  // namespace pier::dataplane::http
