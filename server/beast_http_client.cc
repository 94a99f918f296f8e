#include "server/beast_http_client.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "base/log.h"

namespace sealbox::server {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct Url {
  bool tls = true;
  std::string host;
  std::string port;
  std::string target;
};

Result<Url> ParseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    u.tls = false;
    rest = url.substr(7);
  } else {
    return InvalidArgument("URL must start with https://");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("bad URL host");
    u.host = authority.substr(1, close - 1);
    u.port = close + 2 <= authority.size() ? authority.substr(close + 2) : "";
  } else {
    size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.host.empty()) return InvalidArgument("bad URL host");
  return u;
}

using Deadline = std::chrono::steady_clock::time_point;

// One pooled connection with its own io_context, on which each operation
// runs asynchronously until it completes or its deadline passes (RunBounded).
struct Conn {
  net::io_context ioc;
  std::unique_ptr<ssl::context> ctx;
  std::unique_ptr<ssl::stream<tcp::socket>> tls;
  std::unique_ptr<tcp::socket> plain;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
};

// A pooled connection is worth a request only if the peer has not closed it:
// an idle connection has nothing to read, so anything readable (a FIN, a TLS
// close_notify, an error) means it is gone. Sending on it would fail only
// after the request left, when it may not be replayed.
bool StillOpen(Conn& c) {
  if (c.buffer.size() != 0) return false;
  pollfd p{c.socket().native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

// Runs one asynchronous operation on the connection's own io_context until
// it completes or `deadline` passes; then it is cancelled and the connection
// must be dropped. Not Asio's blocking calls with SO_RCVTIMEO: when recv()
// times out they wait again in poll() with no timeout, so a peer that
// accepted a request and stalled (a stopped process) held the caller forever.
template <class Start>
boost::system::error_code RunBounded(Conn& c, Deadline deadline, Start start) {
  boost::system::error_code result;
  bool done = false;
  c.ioc.restart();
  start([&](boost::system::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  c.ioc.run_until(deadline);
  if (done) return result;
  boost::system::error_code ignored;
  c.socket().cancel(ignored);
  c.ioc.restart();
  c.ioc.run();  // the cancelled operation's handler, which refers to this frame
  return net::error::timed_out;
}

Status ConnectWithTimeout(tcp::socket& sock, const tcp::resolver::results_type& eps, int timeout_ms) {
  for (const auto& ep : eps) {
    boost::system::error_code ec;
    sock.close(ec);
    sock.open(ep.endpoint().protocol(), ec);
    if (ec) continue;
    sock.non_blocking(true, ec);
    sock.connect(ep.endpoint(), ec);
    if (ec == net::error::would_block || ec == net::error::in_progress) {
      pollfd p{sock.native_handle(), POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) != 1) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(sock.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) continue;
    } else if (ec) {
      continue;
    }
    sock.non_blocking(false, ec);
    int one = 1;
    setsockopt(sock.native_handle(), IPPROTO_TCP, 1 /*TCP_NODELAY*/, &one, sizeof one);
    return Status::Ok();
  }
  return Unavailable("cannot connect");
}

// Idle connections kept per peer: at least the server's wait workers (32), so
// a standby forwarding at full concurrency reuses its connections instead of
// paying a TLS handshake per request (16 held forwarded reads to 0.30x of
// direct ones, 64 to 0.48x).
constexpr size_t kMaxIdlePerPeer = 64;

// Idle connections older than this are closed rather than reused: under the
// server's default idle timeout (60 s), so a request is not sent on a
// connection the peer is closing at that moment.
constexpr auto kMaxIdleAge = std::chrono::seconds(30);

bool Replayable(const HttpClientRequest& r) {
  return r.replayable.value_or(r.method == "GET" || r.method == "HEAD");
}

class BeastHttpClient final : public HttpClient {
 public:
  Result<HttpClientResponse> Do(const HttpClientRequest& r) override {
    SB_ASSIGN_OR_RETURN(Url u, ParseUrl(r.url));
    const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(r.timeout_ms);
    std::string key = PoolKey(u, r.tls);
    // A pooled connection may have been closed by the peer: retry once fresh.
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::unique_ptr<Conn> conn = attempt == 0 ? Take(key) : nullptr;
      bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = Connect(u, r.tls, deadline);
        if (!fresh.ok()) return fresh.status();
        conn = std::move(fresh).value();
      }
      bool keep = false;
      auto resp = Exchange(*conn, u, r, deadline, &keep);
      // A request that never left is retried fresh; one that did only if it
      // may be sent twice.
      const bool unsent = !resp.ok() && resp.status().code() == StatusCode::kUnavailable;
      if (!resp.ok() && reused && (unsent || Replayable(r))) continue;
      if (resp.ok() && keep) Give(key, std::move(conn));
      return resp;
    }
    return Unavailable("request failed");
  }

 private:
  static std::string PoolKey(const Url& u, const TlsClientConfig& t) {
    return (u.tls ? "https://" : "http://") + u.host + ":" + u.port + "|" + t.ca_pem + "|" + t.ca_file + "|" +
           t.ca_path + "|" + (t.insecure_skip_verify ? "1" : "0") + "|" + t.server_name + "|" +
           (t.client_identity ? t.client_identity->cert_pem : std::string());
  }

  // The most recently used open connection to the peer, closing the stale.
  std::unique_ptr<Conn> Take(const std::string& key) {
    const auto now = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<Conn>> stale;  // closed outside the lock
    std::unique_ptr<Conn> found;
    {
      std::lock_guard l(mu_);
      auto it = pool_.find(key);
      if (it == pool_.end()) return nullptr;
      auto& idle = it->second;
      while (!idle.empty() && !found) {
        auto c = std::move(idle.back());
        idle.pop_back();
        if (now - c->idle_since < kMaxIdleAge && StillOpen(*c))
          found = std::move(c);
        else
          stale.push_back(std::move(c));
      }
    }
    return found;
  }

  void Give(const std::string& key, std::unique_ptr<Conn> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard l(mu_);
    auto& v = pool_[key];
    if (v.size() < kMaxIdlePerPeer) v.push_back(std::move(c));
  }

  Result<std::unique_ptr<Conn>> Connect(const Url& u, const TlsClientConfig& t, Deadline deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const int timeout_ms = static_cast<int>(std::max<int64_t>(left.count(), 1));
    auto c = std::make_unique<Conn>();
    boost::system::error_code ec;
    tcp::resolver resolver(c->ioc);
    auto eps = resolver.resolve(u.host, u.port, ec);
    if (ec) return Unavailable("cannot resolve host");
    if (!u.tls) {
      c->plain = std::make_unique<tcp::socket>(c->ioc);
      SB_RETURN_IF_ERROR(ConnectWithTimeout(*c->plain, eps, timeout_ms));
      return c;
    }
    c->ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(c->ctx->native_handle(), TLS1_2_VERSION);
    if (t.insecure_skip_verify) {
      c->ctx->set_verify_mode(ssl::verify_none);
    } else {
      c->ctx->set_verify_mode(ssl::verify_peer);
      if (!t.ca_pem.empty()) {
        c->ctx->add_certificate_authority(net::buffer(t.ca_pem), ec);
        if (ec) return InvalidArgument("invalid CA certificate");
      } else if (!t.ca_file.empty()) {
        c->ctx->load_verify_file(t.ca_file, ec);
        if (ec) return InvalidArgument("cannot load CA file");
      } else if (!t.ca_path.empty()) {
        c->ctx->add_verify_path(t.ca_path, ec);
        if (ec) return InvalidArgument("cannot load CA path");
      } else {
        c->ctx->set_default_verify_paths(ec);
      }
    }
    if (t.client_identity) {
      c->ctx->use_certificate_chain(net::buffer(t.client_identity->cert_pem), ec);
      if (!ec) c->ctx->use_private_key(net::buffer(t.client_identity->key_pem.view()), ssl::context::pem, ec);
      if (ec) return InvalidArgument("invalid client certificate or key");
    }
    c->tls = std::make_unique<ssl::stream<tcp::socket>>(c->ioc, *c->ctx);
    std::string name = t.server_name.empty() ? u.host : t.server_name;
    if (!t.insecure_skip_verify) c->tls->set_verify_callback(ssl::host_name_verification(name));
    boost::system::error_code ip_ec;
    net::ip::make_address(name, ip_ec);
    if (ip_ec) SSL_set_tlsext_host_name(c->tls->native_handle(), name.c_str());  // SNI only for names
    SB_RETURN_IF_ERROR(ConnectWithTimeout(c->tls->next_layer(), eps, timeout_ms));
    ec = RunBounded(*c, deadline, [&](auto done) { c->tls->async_handshake(ssl::stream_base::client, done); });
    if (ec) return Unavailable("TLS handshake failed: " + ec.message());
    return c;
  }

  template <class Stream>
  Result<HttpClientResponse> ExchangeOn(Stream& s, Conn& c, const Url& u, const HttpClientRequest& r, Deadline deadline,
                                        bool* keep) {
    http::request<http::string_body> req;
    req.method_string(r.method);
    req.target(u.target);
    req.version(11);
    req.set(http::field::host, u.host);
    req.set(http::field::user_agent, "sealbox");
    for (const auto& [k, v] : r.headers) req.set(k, v);
    req.body() = r.body;
    req.keep_alive(true);
    req.prepare_payload();
    // Serialised into one buffer and written at once: http::write on a TLS
    // stream sends the header and the body as two TLS records (two
    // SSL_write calls, two send syscalls), which the peer then reads apart.
    boost::system::error_code ec;
    std::string wire;
    wire.reserve(512 + r.body.size());
    http::request_serializer<http::string_body> sr{req};
    do {
      sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
        size_t n = 0;
        for (const auto b : beast::buffers_range_ref(buffers)) {
          wire.append(static_cast<const char*>(b.data()), b.size());
          n += b.size();
        }
        sr.consume(n);
      });
      if (ec) return Unavailable("write failed: " + ec.message());
    } while (!sr.is_done());
    ec = RunBounded(c, deadline, [&](auto done) { net::async_write(s, net::buffer(wire), done); });
    if (ec) return Unavailable("write failed: " + ec.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(r.max_response_body);
    ec = RunBounded(c, deadline, [&](auto done) { http::async_read(s, c.buffer, parser, done); });
    if (ec) return OutcomeUnknown("read failed: " + ec.message());
    auto& msg = parser.get();
    HttpClientResponse out;
    out.status = static_cast<int>(msg.result_int());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    out.body = std::move(msg.body());
    *keep = msg.keep_alive();
    return out;
  }

  Result<HttpClientResponse> Exchange(Conn& c, const Url& u, const HttpClientRequest& r, Deadline deadline,
                                      bool* keep) {
    if (c.tls) return ExchangeOn(*c.tls, c, u, r, deadline, keep);
    return ExchangeOn(*c.plain, c, u, r, deadline, keep);
  }

  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> pool_;  // guarded by mu_
};

}  // namespace

std::shared_ptr<HttpClient> NewBeastHttpClient() { return std::make_shared<BeastHttpClient>(); }

}  // namespace sealbox::server
