#include "http/access_log.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "http/line_sink.h"

namespace pier::dataplane::http {

namespace {

constexpr char kLoggerName[] = "access";

// Bytes that cannot stand for themselves inside a JSON string: quote, backslash, controls.
constexpr bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\' || c == 0x7f; }

// Appends a JSON string literal. Runs of plain bytes (the whole value, nearly always) are
// appended at once; only the bytes that need it are escaped one by one.
void AppendJsonString(fmt::memory_buffer& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const char* run = text.data();
  const char* end = text.data() + text.size();
  for (const char* at = run; at != end; ++at) {
    const auto c = static_cast<unsigned char>(*at);
    if (!NeedsEscape(c)) continue;
    out.append(run, at);
    run = at + 1;
    if (c == '"' || c == '\\') {
      const char escaped[] = {'\\', static_cast<char>(c)};
      out.append(escaped, escaped + sizeof(escaped));
    } else {
      const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
      out.append(escaped, escaped + sizeof(escaped));
    }
  }
  out.append(run, end);
  out.push_back('"');
}

// `key` is the literal ,"name": (names are constants that need no escaping).
void AppendField(fmt::memory_buffer& out, std::string_view key, std::string_view value) {
  out.append(key);
  AppendJsonString(out, value);
}

template <class Number>
void AppendNumber(fmt::memory_buffer& out, std::string_view key, Number value) {
  out.append(key);
  fmt::format_int digits(value);
  out.append(digits.data(), digits.data() + digits.size());
}

// Milliseconds with three decimals, as {:.3f} would print them for the durations a request
// can take (never negative, far below 2^63 microseconds).
void AppendMilliseconds(fmt::memory_buffer& out, std::string_view key, double milliseconds) {
  out.append(key);
  const auto micros = static_cast<std::uint64_t>(std::llround(std::max(milliseconds, 0.0) * 1000.0));
  fmt::format_int whole(micros / 1000);
  out.append(whole.data(), whole.data() + whole.size());
  const auto fraction = static_cast<unsigned>(micros % 1000);
  const char decimals[] = {'.', static_cast<char>('0' + fraction / 100), static_cast<char>('0' + fraction / 10 % 10),
                           static_cast<char>('0' + fraction % 10)};
  out.append(decimals, decimals + sizeof(decimals));
}

spdlog::logger& AccessLogger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get(kLoggerName)) return existing;
    auto created = std::make_shared<spdlog::logger>(kLoggerName, std::make_shared<LineSink>(STDOUT_FILENO));
    created->set_pattern("%v");
    created->set_level(spdlog::level::info);
    // Lines are complete records, each written as it is logged (LineSink buffers nothing),
    // which keeps `kubectl logs` and pipes current.
    spdlog::register_logger(created);
    return created;
  }();
  return *logger;
}

// "YYYY-MM-DDTHH:MM:SS" of `seconds`. Every request in a second shares it, so each thread keeps
// the last one: gmtime_r and strftime cost more than the rest of the line put together.
std::string_view UtcSecond(std::time_t seconds) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  thread_local std::size_t cached_length = 0;
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    cached_length = std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = seconds;
  }
  return {cached, cached_length};
}

void AppendAccessRecord(fmt::memory_buffer& out, const AccessRecord& record) {
  auto since_epoch = record.start.time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto millis = static_cast<unsigned>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count());
  out.append(std::string_view("{\"ts\":\""));
  out.append(UtcSecond(seconds.count()));
  const char fraction[] = {'.', static_cast<char>('0' + millis / 100 % 10), static_cast<char>('0' + millis / 10 % 10),
                           static_cast<char>('0' + millis % 10), 'Z', '"'};
  out.append(fraction, fraction + sizeof(fraction));
  using Kind = AccessRecord::Kind;
  AppendField(out, ",\"type\":",
              record.kind == Kind::kHttp ? "http" : record.kind == Kind::kWebSocket ? "websocket" : "tls-passthrough");
  AppendField(out, ",\"client\":", record.client);
  AppendField(out, ",\"method\":", record.method);
  AppendField(out, ",\"host\":", record.host);
  AppendField(out, ",\"path\":", record.path);
  AppendNumber(out, ",\"status\":", record.status);
  AppendField(out, ",\"upstream\":", record.upstream);
  AppendNumber(out, ",\"bytes_in\":", record.bytes_in);
  AppendNumber(out, ",\"bytes_out\":", record.bytes_out);
  AppendMilliseconds(out, ",\"duration_ms\":", record.duration_ms);
  AppendField(out, ",\"route\":", record.route);
  AppendField(out, ",\"request_id\":", record.request_id);
  if (!record.user.empty()) AppendField(out, ",\"user\":", record.user);
  if (record.kind != Kind::kHttp) AppendField(out, ",\"close_reason\":", record.close_reason);
  if (record.kind == Kind::kWebSocket) {
    AppendNumber(out, ",\"messages_in\":", record.messages_in);
    AppendNumber(out, ",\"messages_out\":", record.messages_out);
    AppendField(out, ",\"close_initiator\":", record.close_initiator);
    AppendNumber(out, ",\"close_code\":", record.close_code);
  }
  out.push_back('}');
}

}  // namespace

std::string FormatAccessRecord(const AccessRecord& record) {
  fmt::memory_buffer out;
  AppendAccessRecord(out, record);
  return fmt::to_string(out);
}

void WriteAccessLog(const AccessRecord& record) {
  auto& logger = AccessLogger();
  if (!logger.should_log(spdlog::level::info)) return;
  // Formatted once into a per-thread buffer and handed to spdlog as the finished message:
  // logger.info("{}", line) would copy it through fmt a second time and allocate a string.
  thread_local fmt::memory_buffer line;
  line.clear();
  AppendAccessRecord(line, record);
  logger.log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

void SetAccessLogEnabled(bool enabled) {
  AccessLogger().set_level(enabled ? spdlog::level::info : spdlog::level::off);
}

}  // namespace pier::dataplane::http
