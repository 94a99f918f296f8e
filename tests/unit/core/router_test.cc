// Router: one match per request on the decoded path (Route), the mount a
// lease names (RouteTo), taint while a mount is disabled or moved, and the
// generation that tells a bound route it may be stale. RoutedBackend's
// RunModeFor: the run mode a route declares, else the backend's defaults.
#include "core/router.h"

#include <gtest/gtest.h>

#include "logical/routed_backend.h"

namespace sealbox::core {
namespace {

using logical::Operation;
using logical::RunMode;

// A backend declared as data: one route that waits, the rest default.
class FakeBackend final : public logical::RoutedBackend {
 public:
  explicit FakeBackend(RunMode reads) {
    auto ok = [](logical::Request&, logical::FieldData&) -> Result<logical::Response> { return logical::Response{}; };
    SetRoutes({{.pattern = "slow/{name}", .ops = {{Operation::kRead, ok}}, .run_mode = RunMode::kWaits},
               {.pattern = "{path:*}", .ops = {{Operation::kRead, ok}, {Operation::kUpdate, ok}}}});
    SetRunModes(reads, RunMode::kWaits);
  }
};

std::shared_ptr<RouteEntry> Entry(const std::string& path, bool auth = false) {
  auto e = std::make_shared<RouteEntry>();
  e->mount.path = path;
  e->mount.type = "fake";
  e->mount.auth = auth;
  e->mount.accessor = "fake_1234";
  e->backend = std::make_unique<FakeBackend>(RunMode::kNonBlocking);
  return e;
}

TEST(RouterTest, RouteBindsTheLongestMountAndTheRelativePath) {
  Router r;
  ASSERT_TRUE(r.Mount(Entry("db/")).ok());
  ASSERT_TRUE(r.Mount(Entry("kubernetes/", true)).ok());
  ASSERT_TRUE(r.Mount(Entry("dbx/")).ok());
  BoundRoute b = r.Route("db/creds/slow");
  ASSERT_TRUE(b);
  EXPECT_EQ(b.entry->mount.RoutePath(), "db/");
  EXPECT_EQ(b.relative_path, "creds/slow");
  EXPECT_EQ(r.Route("dbx/a").entry->mount.RoutePath(), "dbx/");
  EXPECT_EQ(r.Route("auth/kubernetes/login").relative_path, "login");
  // The mount itself without its slash, as Vault.
  EXPECT_EQ(r.Route("db").relative_path, "");
  EXPECT_FALSE(r.Route("d%62/creds/slow"));  // the router sees decoded paths only
  EXPECT_FALSE(r.Route("nothing/here"));
}

TEST(RouterTest, TaintHidesAMountFromRequestsButNotFromItsLeases) {
  Router r;
  ASSERT_TRUE(r.Mount(Entry("db/")).ok());
  uint64_t before = r.generation();
  r.Taint("db/", true);
  EXPECT_NE(r.generation(), before);
  EXPECT_FALSE(r.Route("db/creds/x"));
  BoundRoute lease = r.RouteTo("db/", "db/creds/x");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease.relative_path, "creds/x");
  r.Taint("db/", false);
  EXPECT_TRUE(r.Route("db/creds/x"));
}

TEST(RouterTest, EveryTableChangeMovesTheGeneration) {
  Router r;
  uint64_t g = r.generation();
  ASSERT_TRUE(r.Mount(Entry("a/")).ok());
  EXPECT_GT(r.generation(), g);
  g = r.generation();
  ASSERT_TRUE(r.Replace("a/", Entry("a/")).ok());
  EXPECT_GT(r.generation(), g);
  g = r.generation();
  EXPECT_TRUE(r.Unmount("a/"));
  EXPECT_GT(r.generation(), g);
  g = r.generation();
  r.Clear();
  EXPECT_GT(r.generation(), g);
  EXPECT_EQ(r.Route("a/x").generation, r.generation());
}

TEST(RouterTest, ABoundRequestGetsItsFullPathBackWhenTheScopeEnds) {
  Router r;
  ASSERT_TRUE(r.Mount(Entry("kubernetes/", true)).ok());
  logical::Request req;
  req.path = "auth/kubernetes/role/app";
  BoundRoute b = r.Route(req.path);
  {
    BoundRequestScope scope(b, req);
    EXPECT_EQ(req.path, "role/app");
    EXPECT_EQ(req.mount_point, "auth/kubernetes/");
    EXPECT_EQ(req.mount_class, "auth");
    EXPECT_EQ(req.mount_accessor, "fake_1234");
    EXPECT_EQ(req.storage, b.entry->view.get());
  }
  EXPECT_EQ(req.path, "auth/kubernetes/role/app");
}

TEST(RoutedBackendTest, RunModeIsWhatTheRouteDeclaresElseTheBackendDefaults) {
  FakeBackend nonblocking(RunMode::kNonBlocking);
  EXPECT_EQ(nonblocking.RunModeFor("slow/x", Operation::kRead), RunMode::kWaits);
  EXPECT_EQ(nonblocking.RunModeFor("fast/x", Operation::kRead), RunMode::kNonBlocking);
  EXPECT_EQ(nonblocking.RunModeFor("fast/", Operation::kList), RunMode::kNonBlocking);
  EXPECT_EQ(nonblocking.RunModeFor("fast/x", Operation::kUpdate), RunMode::kWaits);
  FakeBackend computes(RunMode::kComputes);
  EXPECT_EQ(computes.RunModeFor("fast/x", Operation::kRead), RunMode::kComputes);
  // A backend that declares nothing: reads compute, writes wait.
  class Plain final : public logical::Backend {
    Result<logical::Response> HandleRequest(logical::Request&) override { return logical::Response{}; }
  } plain;
  EXPECT_EQ(plain.RunModeFor("x", Operation::kRead), RunMode::kComputes);
  EXPECT_EQ(plain.RunModeFor("x", Operation::kDelete), RunMode::kWaits);
}

TEST(RoutedBackendTest, AStandbyServesOnlyWhatTheRouteOrTheBackendDeclaresReadOnly) {
  class Declared final : public logical::RoutedBackend {
   public:
    explicit Declared(bool reads) {
      auto ok = [](logical::Request&, logical::FieldData&) -> Result<logical::Response> { return logical::Response{}; };
      SetRoutes({{.pattern = "ask", .ops = {{Operation::kUpdate, ok}}, .standby_ops = {Operation::kUpdate}},
                 {.pattern = "creds/{name}", .ops = {{Operation::kRead, ok}}, .standby_ops = {Operation::kHelp}},
                 {.pattern = "{path:+}", .ops = {{Operation::kRead, ok}, {Operation::kUpdate, ok}}}});
      SetStandbyReads(reads);
    }
  };
  Declared kv(true);
  EXPECT_TRUE(kv.ServesOnStandby("ask", Operation::kUpdate));
  EXPECT_FALSE(kv.ServesOnStandby("ask", Operation::kRead));  // the route says which, not the default
  EXPECT_FALSE(kv.ServesOnStandby("creds/x", Operation::kRead));
  EXPECT_TRUE(kv.ServesOnStandby("data/x", Operation::kRead));
  EXPECT_TRUE(kv.ServesOnStandby("data/", Operation::kList));
  EXPECT_FALSE(kv.ServesOnStandby("data/x", Operation::kUpdate));
  EXPECT_FALSE(kv.ServesOnStandby("data/x", Operation::kDelete));
  EXPECT_FALSE(kv.ServesOnStandby("", Operation::kRead));  // no route: the active answers
  Declared other(false);
  EXPECT_FALSE(other.ServesOnStandby("data/x", Operation::kRead));
  EXPECT_TRUE(other.ServesOnStandby("ask", Operation::kUpdate));
  // A backend that declares nothing is served by the active node alone.
  class Plain final : public logical::Backend {
    Result<logical::Response> HandleRequest(logical::Request&) override { return logical::Response{}; }
  } plain;
  EXPECT_FALSE(plain.ServesOnStandby("x", Operation::kRead));
}

}  // namespace
}  // namespace sealbox::core
