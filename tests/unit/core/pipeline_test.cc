// The request pipeline over a fake backend: a request is bound to its mount
// once (Core::Route, on its decoded path), the route's RunMode comes from the
// backend's declaration, the backend sees the mount-relative request, and the
// request gets its full path back when it ends. A mount change between Route
// and the run binds again; a sealed core answers at once.
#include <gtest/gtest.h>

#include <mutex>

#include "core/core.h"
#include "logical/routed_backend.h"
#include "storage/storage.h"

namespace sealbox::core {
namespace {

using logical::Operation;
using logical::RunMode;

struct Seen {
  std::mutex mu;
  std::string path, mount_point, mount_class;
  bool had_storage = false;
  int calls = 0;
};

class RecordingBackend final : public logical::RoutedBackend {
 public:
  explicit RecordingBackend(Seen* seen) {
    auto record = [seen](logical::Request& r, logical::FieldData&) -> Result<logical::Response> {
      std::lock_guard l(seen->mu);
      seen->path = r.path;
      seen->mount_point = r.mount_point;
      seen->mount_class = r.mount_class;
      seen->had_storage = r.storage != nullptr;
      ++seen->calls;
      return logical::Response::WithData(Json{{"ok", true}});
    };
    SetRoutes({{.pattern = "slow/{name}", .ops = {{Operation::kRead, record}}, .run_mode = RunMode::kWaits},
               {.pattern = "{rest:*}", .ops = {{Operation::kRead, record}, {Operation::kUpdate, record}}}});
    SetRunModes(RunMode::kNonBlocking, RunMode::kWaits);
  }
};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoreOptions o;
    o.physical = NewInMemStorage();
    o.storage_type = "inmem";
    o.backends.Register("fake", [this](const logical::BackendConfig&) -> Result<std::unique_ptr<logical::Backend>> {
      return std::unique_ptr<logical::Backend>(new RecordingBackend(&seen_));
    });
    core_ = std::move(Core::Create(std::move(o))).value();
    auto creds = core_->DevSetup("");
    ASSERT_TRUE(creds.ok()) << creds.status().ToString();
    root_ = creds->root_token;
    ASSERT_TRUE(Send(Operation::kUpdate, "sys/mounts/fake", Json{{"type", "fake"}}).ok());
  }

  logical::Request Make(Operation op, const std::string& path, Json data = Json::object()) {
    logical::Request req;
    req.id = "test";
    req.op = op;
    req.path = path;
    req.data = std::move(data);
    req.client_token = root_;
    return req;
  }
  Result<logical::Response> Send(Operation op, const std::string& path, Json data = Json::object()) {
    logical::Request req = Make(op, path, std::move(data));
    return core_->HandleRequest(req);
  }

  Seen seen_;
  std::unique_ptr<Core> core_;
  std::string root_;
};

TEST_F(PipelineTest, TheRouteBoundOnceDecidesHowTheRequestRuns) {
  RoutedRequest read{Make(Operation::kRead, "fake/a/b")};
  core_->Route(read);
  ASSERT_TRUE(read.route);
  EXPECT_EQ(read.run_mode, RunMode::kNonBlocking);
  RoutedRequest slow{Make(Operation::kRead, "fake/slow/x")};
  core_->Route(slow);
  EXPECT_EQ(slow.run_mode, RunMode::kWaits);
  RoutedRequest write{Make(Operation::kUpdate, "fake/a")};
  core_->Route(write);
  EXPECT_EQ(write.run_mode, RunMode::kWaits);
  RoutedRequest nowhere{Make(Operation::kRead, "nothing/here")};
  core_->Route(nowhere);
  EXPECT_EQ(nowhere.run_mode, RunMode::kNonBlocking);  // refused after a token lookup
}

TEST_F(PipelineTest, TheBackendSeesTheMountAndTheRequestGetsItsPathBack) {
  RoutedRequest r{Make(Operation::kRead, "fake/a/b")};
  core_->Route(r);
  auto resp = RunSync(core_->HandleRequestAsync(r, nullptr));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ((*resp->data)["ok"], true);
  {
    std::lock_guard l(seen_.mu);
    EXPECT_EQ(seen_.path, "a/b");
    EXPECT_EQ(seen_.mount_point, "fake/");
    EXPECT_EQ(seen_.mount_class, "secret");
    EXPECT_TRUE(seen_.had_storage);
  }
  EXPECT_EQ(r.request.path, "fake/a/b");
  EXPECT_EQ(r.request.original_path, "fake/a/b");
}

TEST_F(PipelineTest, AMountChangeAfterRouteBindsAgain) {
  RoutedRequest r{Make(Operation::kRead, "fake/a")};
  core_->Route(r);
  ASSERT_TRUE(Send(Operation::kDelete, "sys/mounts/fake").ok());
  auto resp = RunSync(core_->HandleRequestAsync(r, nullptr));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kNotFound);
  std::lock_guard l(seen_.mu);
  EXPECT_EQ(seen_.calls, 0);  // the unmounted backend never ran
}

TEST_F(PipelineTest, ASealedCoreAnswersAtOnce) {
  ASSERT_TRUE(core_->Seal().ok());
  RoutedRequest r{Make(Operation::kRead, "fake/a")};
  core_->Route(r);
  EXPECT_EQ(r.run_mode, RunMode::kNonBlocking);
  EXPECT_FALSE(r.route);
  auto resp = RunSync(core_->HandleRequestAsync(r, nullptr));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), StatusCode::kSealed);
}

}  // namespace
}  // namespace sealbox::core
