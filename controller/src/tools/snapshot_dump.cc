// pier-snapshot-dump: a minimal dataplane for debugging and tests. It opens a SnapshotService
// stream, sends Hello, prints every snapshot it receives as one JSON line on stdout (protobuf's
// JSON mapping, proto field names), and answers each with an Ack (or a NACK with --nack).
//
// Private keys (every `*private_key_pem` field) are printed as a placeholder with their size and
// SHA-256 unless --show-private-keys: a dump pasted into a bug report or a terminal log must not
// carry them.
//
// Exit status: 0 after --count snapshots, 1 when the stream ends or fails first, 2 for bad
// flags, 3 when --timeout passes first.
#include <CLI/CLI.hpp>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "pier/common/version.h"
#include "pier/v1/snapshot.grpc.pb.h"

namespace {

struct Flags {
  std::string controller = "127.0.0.1:18000";
  std::string node_id = "snapshot-dump";
  uint64_t last_version = 0;
  std::string last_instance;
  int count = 0;
  double timeout_s = 0;
  bool nack = false;
  bool pretty = false;
  bool show_private_keys = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

bool ReadFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = std::move(text).str();
  return true;
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) return "unavailable";
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// Replaces every non-empty string field named *private_key_pem, at any depth (repeated fields
// and maps included), with a placeholder that still tells whether two keys are the same.
void RedactPrivateKeys(google::protobuf::Message& message) {
  using google::protobuf::FieldDescriptor;
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
          RedactPrivateKeys(*reflection->MutableRepeatedMessage(&message, field, i));
        }
      } else {
        RedactPrivateKeys(*reflection->MutableMessage(&message, field));
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && !field->is_repeated() &&
               field->name().ends_with("private_key_pem")) {
      const std::string key = reflection->GetString(message, field);
      if (key.empty()) continue;
      reflection->SetString(&message, field,
                            "<redacted: " + std::to_string(key.size()) + " bytes, sha256 " + Sha256Hex(key) +
                                "; --show-private-keys prints it>");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"pier-snapshot-dump: print the snapshots a Pier controller sends"};
  Flags flags;
  app.set_version_flag("--version", std::string("pier-snapshot-dump ") + pier::Version());
  app.add_option("--controller", flags.controller, "Controller gRPC address")->capture_default_str();
  app.add_option("--node-id", flags.node_id, "Node id sent in Hello")->capture_default_str();
  app.add_option("--last-version", flags.last_version, "Hello.last_applied_version");
  app.add_option("--last-instance", flags.last_instance, "Hello.last_applied_instance");
  app.add_option("--count", flags.count, "Exit 0 after this many snapshots (0: run until the stream ends)");
  app.add_option("--timeout", flags.timeout_s, "Give up after this many seconds (exit 3; 0: never)");
  app.add_flag("--nack", flags.nack, "Reject every snapshot instead of accepting it");
  app.add_flag("--pretty", flags.pretty, "Indented JSON instead of one line per snapshot");
  app.add_flag("--show-private-keys", flags.show_private_keys,
               "Print private keys as sent (by default each is replaced with its size and SHA-256)");
  app.add_option("--tls-cert", flags.tls_cert, "Client certificate (PEM) for mutual TLS");
  app.add_option("--tls-key", flags.tls_key, "Client private key (PEM)");
  app.add_option("--tls-ca", flags.tls_ca, "CA (PEM) to verify the controller with");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "pier-snapshot-dump: " << e.what() << "\n";
    return 2;
  }

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!flags.tls_cert.empty() || !flags.tls_key.empty() || !flags.tls_ca.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!ReadFile(flags.tls_ca, ssl.pem_root_certs) || !ReadFile(flags.tls_key, ssl.pem_private_key) ||
        !ReadFile(flags.tls_cert, ssl.pem_cert_chain)) {
      std::cerr << "pier-snapshot-dump: --tls-cert, --tls-key and --tls-ca must all name readable files\n";
      return 2;
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(flags.controller, credentials, args);
  auto stub = pier::v1::SnapshotService::NewStub(channel);

  grpc::ClientContext context;
  const bool has_deadline = flags.timeout_s > 0;
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  if (has_deadline) context.set_deadline(deadline);
  auto stream = stub->Stream(&context);

  pier::v1::DataplaneMessage hello;
  hello.mutable_hello()->set_node_id(flags.node_id);
  hello.mutable_hello()->set_build_version(pier::Version());
  hello.mutable_hello()->set_last_applied_version(flags.last_version);
  hello.mutable_hello()->set_last_applied_instance(flags.last_instance);
  stream->Write(hello);

  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  json.add_whitespace = flags.pretty;

  int received = 0;
  pier::v1::ControllerMessage message;
  while (stream->Read(&message)) {
    if (!message.has_snapshot()) continue;
    if (!flags.show_private_keys) RedactPrivateKeys(*message.mutable_snapshot());
    std::string text;
    auto printed = google::protobuf::util::MessageToJsonString(message.snapshot(), &text, json);
    if (!printed.ok()) {
      std::cerr << "pier-snapshot-dump: cannot print snapshot: " << printed.ToString() << "\n";
      return 1;
    }
    if (!text.empty() && text.back() == '\n') text.pop_back();
    std::cout << text << std::endl;

    pier::v1::DataplaneMessage ack;
    ack.mutable_ack()->set_version(message.snapshot().version());
    ack.mutable_ack()->set_accepted(!flags.nack);
    if (flags.nack) ack.mutable_ack()->set_error("rejected by pier-snapshot-dump --nack");
    stream->Write(ack);

    if (flags.count > 0 && ++received >= flags.count) {
      context.TryCancel();
      return 0;
    }
  }
  const grpc::Status status = stream->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::cerr << "pier-snapshot-dump: timed out after " << flags.timeout_s << " s with " << received
              << " snapshots\n";
    return 3;
  }
  std::cerr << "pier-snapshot-dump: stream ended: " << (status.ok() ? "OK" : status.error_message()) << " (code "
            << status.error_code() << ")\n";
  return 1;
}
