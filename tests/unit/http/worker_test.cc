// The worker's list of connections: Drain reaches every registered connection once, including
// when a Drain() ends other connections (or itself) on the spot.
#include "listener/worker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>

#include "listener/proxy_server.h"
#include "routing/config.h"

namespace pier::dataplane {
namespace {

class FakeConnection final : public Drainable {
 public:
  FakeConnection(Worker& worker, std::vector<int>& drained, int id) : worker_(worker), drained_(drained), id_(id) {
    worker_.Register(this);
  }
  ~FakeConnection() { worker_.Unregister(this); }

  void Drain() noexcept override {
    drained_.push_back(id_);
    // A copy: the call may destroy this connection, and with it its on_drain.
    if (auto then = on_drain) then();
  }

  std::function<void()> on_drain;

 private:
  Worker& worker_;
  std::vector<int>& drained_;
  int id_;
};

struct WorkerTest : ::testing::Test {
  ConfigStore config;
  ServerState state{config, ProxyOptions{}, CidrSet{}};
  Worker worker{state};
  std::vector<int> drained;
};

TEST_F(WorkerTest, DrainReachesEveryConnectionOnce) {
  std::vector<std::unique_ptr<FakeConnection>> connections;
  for (int i = 0; i < 5; ++i) connections.push_back(std::make_unique<FakeConnection>(worker, drained, i));
  connections[2].reset();  // gone before the drain
  worker.DrainConnections();
  std::sort(drained.begin(), drained.end());
  EXPECT_EQ(drained, (std::vector<int>{0, 1, 3, 4}));
  drained.clear();
  worker.DrainConnections();  // still registered: drained again, once each
  EXPECT_EQ(drained.size(), 4u);
}

TEST_F(WorkerTest, AConnectionEndingOthersOrItselfDuringItsDrainIsSafe) {
  std::vector<std::unique_ptr<FakeConnection>> connections;
  for (int i = 0; i < 6; ++i) connections.push_back(std::make_unique<FakeConnection>(worker, drained, i));
  // Whichever of 0 and 1 drains first ends the other before it is drained; 4 ends itself.
  connections[0]->on_drain = [&] { connections[1].reset(); };
  connections[1]->on_drain = [&] { connections[0].reset(); };
  connections[4]->on_drain = [&] { connections[4].reset(); };
  worker.DrainConnections();
  std::sort(drained.begin(), drained.end());
  ASSERT_EQ(drained.size(), 5u);  // one of 0 and 1, then 2, 3, 4 and 5
  EXPECT_TRUE(drained[0] == 0 || drained[0] == 1);
  EXPECT_EQ(std::vector<int>(drained.begin() + 1, drained.end()), (std::vector<int>{2, 3, 4, 5}));
  EXPECT_FALSE(connections[4]);

  // The survivors are still registered, and only they.
  drained.clear();
  for (auto& connection : connections) {
    if (connection) connection->on_drain = nullptr;
  }
  worker.DrainConnections();
  EXPECT_EQ(drained.size(), 4u);
}

TEST_F(WorkerTest, UnregisteringTwiceOrNeverRegisteredIsHarmless) {
  FakeConnection a(worker, drained, 1);
  worker.Unregister(&a);
  worker.Unregister(&a);  // the destructor unregisters a third time
  FakeConnection b(worker, drained, 2);
  worker.DrainConnections();
  EXPECT_EQ(drained, (std::vector<int>{2}));
}

}  // namespace
}  // namespace pier::dataplane
