// Fuzzes the controller's whole path from a manifest file to a dataplane config: arbitrary text
// -> ParseManifest (libyaml) -> ClusterState::Upsert -> translate::Translate -> the dataplane's
// routing::Config::Build, the validation every pushed snapshot goes through.
//
// Beyond "no crash, no leak, no undefined behaviour", one property is checked: whatever the
// manifests say, the snapshot the controller builds from them is one the dataplane accepts.
// The translator drops or fails closed what it cannot express; a snapshot the dataplane
// refuses would leave every dataplane on its old config, so any refusal here is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "model/objects.h"
#include "routing/config.h"
#include "sources/manifest_file.h"
#include "translate/translate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto objects = pier::sources::ParseManifest(text);
  if (!objects) return 0;  // refused with a message: what the controller logs

  pier::model::ClusterState state;
  for (const auto& object : *objects) {
    if (!pier::model::KindOf(object)) continue;  // kinds the controller does not read
    (void)state.Upsert(object);  // a bad object is refused and leaves the state as it was
  }
  pier::translate::Options options;
  options.watch_ingress_without_class = true;  // serve class-less Ingresses too: more to translate
  auto output = pier::translate::Translate(state, options);
  output.snapshot.set_version(1);  // the server stamps these
  output.snapshot.set_controller_instance("fuzz");

  auto config = pier::dataplane::Config::Build(output.snapshot);
  if (!config) {
    std::fprintf(stderr, "the dataplane refuses the translated snapshot: %s\n", config.error().c_str());
    std::abort();
  }
  return 0;
}
