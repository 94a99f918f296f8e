// The outbound HTTP client's promise to its callers (the HA forwarder above
// all): a request that may have reached the peer is never sent twice unless
// it is replayable, and such a failure is told apart from one before sending.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/beast_http_client.h"

namespace sealbox::server {
namespace {

// A plain HTTP peer on loopback whose every connection runs a script.
class ScriptedPeer {
 public:
  using Script = std::function<void(ScriptedPeer&, int fd, int conn_index)>;

  explicit ScriptedPeer(Script script) : script_(std::move(script)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 8), 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedPeer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The next request's method, recorded; "" when the client closed.
  std::string ReadRequest(int fd) {
    std::string got;
    char buf[4096];
    size_t end;
    while ((end = got.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return "";
      got.append(buf, static_cast<size_t>(n));
    }
    size_t length = 0;
    if (auto at = got.find("Content-Length: "); at != std::string::npos) length = std::stoul(got.substr(at + 16));
    while (got.size() < end + 4 + length) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return "";
      got.append(buf, static_cast<size_t>(n));
    }
    std::string method = got.substr(0, got.find(' '));
    std::lock_guard l(mu_);
    received_.push_back(method);
    return method;
  }

  static void Answer(int fd) {
    std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok";
    ::send(fd, r.data(), r.size(), MSG_NOSIGNAL);
  }

  // Waits (bounded) until the peer has closed `n` connections.
  bool WaitClosed(int n) {
    std::unique_lock l(mu_);
    return closed_cv_.wait_for(l, std::chrono::seconds(5), [&] { return closed_ >= n; });
  }

  std::vector<std::string> Received() {
    std::lock_guard l(mu_);
    return received_;
  }

 private:
  void Serve() {
    for (int i = 0;; ++i) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      script_(*this, fd, i);
      ::close(fd);
      {
        std::lock_guard l(mu_);
        ++closed_;
      }
      closed_cv_.notify_all();
    }
  }

  Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> received_;
  int closed_ = 0;
  std::condition_variable closed_cv_;
};

HttpClientRequest Request(const ScriptedPeer& peer, std::string method) {
  HttpClientRequest r;
  r.method = std::move(method);
  r.url = peer.Url("/v1/secret/data/k");
  r.body = r.method == "POST" ? "{\"data\":{}}" : "";
  r.timeout_ms = 5000;
  return r;
}

// The first connection answers one request, then reads the next and drops
// it unanswered; later connections answer everything.
void DropSecondRequest(ScriptedPeer& peer, int fd, int conn_index) {
  while (!peer.ReadRequest(fd).empty()) {
    if (conn_index == 0 && peer.Received().size() == 2) return;
    ScriptedPeer::Answer(fd);
  }
}

TEST(HttpClientTest, AFreshRequestDroppedAfterSendingHasAnUnknownOutcome) {
  ScriptedPeer peer([](ScriptedPeer& p, int fd, int) { p.ReadRequest(fd); });
  auto client = NewBeastHttpClient();
  auto got = client->Do(Request(peer, "POST"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kOutcomeUnknown);
  EXPECT_EQ(peer.Received(), std::vector<std::string>{"POST"});
}

TEST(HttpClientTest, AWriteOnAReusedConnectionIsNeverSentTwice) {
  ScriptedPeer peer(DropSecondRequest);
  auto client = NewBeastHttpClient();
  ASSERT_TRUE(client->Do(Request(peer, "GET")).ok());
  auto got = client->Do(Request(peer, "POST"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kOutcomeUnknown);
  EXPECT_EQ(peer.Received(), (std::vector<std::string>{"GET", "POST"}));
}

TEST(HttpClientTest, AReplayableRequestIsRetriedOnAFreshConnection) {
  ScriptedPeer peer(DropSecondRequest);
  auto client = NewBeastHttpClient();
  ASSERT_TRUE(client->Do(Request(peer, "GET")).ok());
  auto post = Request(peer, "POST");
  post.replayable = true;  // a TokenReview, say: no effect to repeat
  auto got = client->Do(post);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(peer.Received(), (std::vector<std::string>{"GET", "POST", "POST"}));
}

TEST(HttpClientTest, AConnectionThePeerClosedIsNotUsed) {
  // Each connection answers one request and closes, as a peer whose idle
  // timeout ran out: the write goes out once, on a new connection.
  std::atomic<int> connections{0};
  ScriptedPeer peer([&](ScriptedPeer& p, int fd, int) {
    ++connections;
    if (!p.ReadRequest(fd).empty()) ScriptedPeer::Answer(fd);
  });
  auto client = NewBeastHttpClient();
  ASSERT_TRUE(client->Do(Request(peer, "GET")).ok());
  ASSERT_TRUE(peer.WaitClosed(1));
  auto got = client->Do(Request(peer, "POST"));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(peer.Received(), (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(connections.load(), 2);
}

TEST(HttpClientTest, APeerThatStallsAfterTheRequestIsBoundedByTheTimeout) {
  // Reads the request, then nothing until the client gives up and closes.
  ScriptedPeer peer([](ScriptedPeer& p, int fd, int) {
    p.ReadRequest(fd);
    p.ReadRequest(fd);
  });
  HttpClientRequest r = Request(peer, "POST");
  r.timeout_ms = 300;
  const auto start = std::chrono::steady_clock::now();
  auto got = NewBeastHttpClient()->Do(r);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kOutcomeUnknown);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HttpClientTest, NoConnectionMeansNotSent) {
  HttpClientRequest r;
  r.method = "POST";
  r.url = "http://127.0.0.1:1/v1/x";  // nothing listens on port 1
  auto got = NewBeastHttpClient()->Do(r);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sealbox::server
