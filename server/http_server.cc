#include "server/http_server.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/api_handler.h"
#include "base/log.h"
#include "server/request_framing.h"
#include "server/tls_context.h"

namespace sealbox::server {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using net::use_awaitable;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

namespace {

Result<tcp::endpoint> ParseAddress(const std::string& addr) {
  std::string host, port;
  if (!addr.empty() && addr[0] == '[') {
    size_t close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return InvalidArgument("bad listener address " + addr);
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string::npos) return InvalidArgument("bad listener address " + addr);
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto ip = net::ip::make_address(host, ec);
  if (ec) return InvalidArgument("bad listener address " + addr);
  int p = 0;
  try {
    p = std::stoi(port);
  } catch (...) {
    return InvalidArgument("bad listener port in " + addr);
  }
  if (p < 0 || p > 65535) return InvalidArgument("bad listener port in " + addr);
  return tcp::endpoint(ip, static_cast<uint16_t>(p));
}

// Connections are counted per client address; an IPv6 client gets a /64,
// as one host usually does, so it cannot take slots by changing addresses.
std::string AddressKey(const net::ip::address& a) {
  if (a.is_v6() && !a.to_v6().is_v4_mapped()) {
    auto b = a.to_v6().to_bytes();
    return std::string("6") + std::string(b.begin(), b.begin() + 8);
  }
  auto b = a.is_v6() ? net::ip::make_address_v4(net::ip::v4_mapped, a.to_v6()).to_bytes() : a.to_v4().to_bytes();
  return std::string("4") + std::string(b.begin(), b.end());
}

// Resumes the request path's suspended coroutines (audit writes) on their
// connection's event loop, where the connection's own coroutine then resumes
// without another hand-off.
class LoopResumer final : public Resumer {
 public:
  explicit LoopResumer(net::any_io_executor ex) : ex_(std::move(ex)) {}
  void Post(std::function<void()> fn) override { net::post(ex_, std::move(fn)); }

 private:
  net::any_io_executor ex_;
};

// Awaits a Task from an Asio coroutine. A task that never suspends (no audit
// device, or one that failed at once) costs no hand-off at all.
net::awaitable<api::HttpResponse> AwaitTask(Task<api::HttpResponse> task) {
  struct State {
    std::optional<api::HttpResponse> out;
    std::exception_ptr error;
    // Whichever of the task's end and the waiting side arrives second
    // completes the wait.
    std::atomic<bool> arrived{false};
    std::function<void()> complete;
  };
  auto state = std::make_shared<State>();
  Start(std::move(task), [state](api::HttpResponse* v, std::exception_ptr e) {
    if (v) state->out.emplace(std::move(*v));
    state->error = e;
    if (state->arrived.exchange(true, std::memory_order_acq_rel)) state->complete();
  });
  if (!state->arrived.load(std::memory_order_acquire)) {
    co_await net::async_initiate<decltype(use_awaitable), void()>(
        // A raw pointer (this frame keeps the state): GCC 12 destroys a
        // lambda temporary twice when it is an argument in a co_await
        // expression, and a shared_ptr capture would be released twice.
        [st = state.get()](auto handler) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          st->complete = [h] { net::dispatch(std::move(*h)); };
          // Ended meanwhile: complete later, not inside the initiation.
          if (st->arrived.exchange(true, std::memory_order_acq_rel)) net::post(std::move(*h));
        },
        use_awaitable);
  }
  if (state->error) std::rethrow_exception(state->error);
  co_return std::move(*state->out);
}

}  // namespace

struct HttpServer::Impl {
  Options opts;
  api::HttpHandler* handler = nullptr;
  // One event loop per I/O thread, each run by that thread alone; a
  // connection stays on the loop that accepted it for its whole life. A
  // shared loop with a strand per connection moved connections between
  // threads: their memory was freed on another thread than the one that
  // allocated it (malloc arena lock contention, most of the server's futex
  // calls) and every hand-off took the shared loop's lock.
  // Declared before ioc, so destroyed after it: a pending accept on ioc
  // holds a socket of one of these loops.
  std::vector<std::unique_ptr<net::io_context>> more_loops;
  net::io_context ioc{1};  // the first loop: also the acceptor's and signals'
  size_t next_loop = 0;  // round robin; used by Accept only
  std::unique_ptr<net::thread_pool> workers;      // runs HttpHandler::Handle
  std::unique_ptr<net::thread_pool> wait_workers;  // the same, for requests that mostly wait
  tcp::acceptor acceptor{ioc};
  net::signal_set signals{ioc};
  std::unique_ptr<TlsContext> tls;  // swaps its context on reload
  tcp::acceptor cluster_acceptor{ioc};
  std::unique_ptr<ClusterTlsContext> cluster_tls;  // with a cluster listener
  uint16_t cluster_port = 0;
  std::mutex hook_mu;
  std::function<void()> reload_hook;  // guarded by hook_mu
  std::atomic<int64_t> last_full_warning{0};  // steady seconds; rate-limits a log line
  std::mutex slots_mu;
  size_t connections = 0;                                 // guarded by slots_mu
  std::unordered_map<std::string, size_t> per_address;   // AddressKey → connections; guarded by slots_mu
  std::atomic<size_t> inflight{0};
  std::atomic<bool> stopping{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  uint16_t port = 0;

  void Reload() {
    Status st = tls->Reload();
    if (st.ok()) {
      log::Info("server: reloaded the TLS certificate and key");
    } else {
      log::Error("server: TLS reload failed, keeping the previous certificate: " + st.message());
    }
    std::function<void()> hook;
    {
      std::lock_guard l(hook_mu);
      hook = reload_hook;
    }
    if (hook) hook();
  }

  void RequestStop() {
    if (stopping.exchange(true)) return;
    net::post(ioc, [this] {
      boost::system::error_code ec;
      acceptor.close(ec);
      cluster_acceptor.close(ec);
      signals.cancel(ec);
    });
    std::lock_guard l(stop_mu);
    stop_cv.notify_all();
  }

  net::awaitable<void> WaitSignals() {
    while (!stopping.load()) {
      auto [ec, sig] = co_await signals.async_wait(kTuple);
      if (ec) co_return;
      if (sig == SIGHUP) {
        Reload();
      } else {
        log::Info("server: shutting down");
        RequestStop();
        co_return;
      }
    }
  }

  net::awaitable<void> Accept(tcp::acceptor& acceptor, bool cluster) {
    while (!stopping.load()) {
      net::io_context& loop = next_loop == 0 ? ioc : *more_loops[next_loop - 1];
      next_loop = (next_loop + 1) % (more_loops.size() + 1);
      auto [ec, sock] = co_await acceptor.async_accept(loop, kTuple);
      if (ec) {
        if (stopping.load() || ec == net::error::operation_aborted) co_return;
        // Out of file descriptors and the like: back off instead of spinning.
        net::steady_timer t(ioc, std::chrono::milliseconds(50));
        co_await t.async_wait(kTuple);
        continue;
      }
      boost::system::error_code remote_ec;
      const tcp::endpoint remote = sock.remote_endpoint(remote_ec);
      std::string key = remote_ec ? std::string() : AddressKey(remote.address());
      if (Refusal why = remote_ec ? Refusal::kGone : Admit(key); why != Refusal::kNone) {
        // Refuse this one cheaply (no TLS handshake) and keep serving the rest.
        boost::system::error_code ignored;
        sock.close(ignored);
        WarnRefused(why);
        continue;
      }
      auto ex = sock.get_executor();
      net::co_spawn(ex, Session(std::move(sock), cluster), [this, key = std::move(key)](std::exception_ptr e) {
        Release(key);
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            log::Debug(std::string("server: session ended: ") + ex.what());
          }
        }
      });
    }
  }

  enum class Refusal { kNone, kGone, kGlobal, kPerAddress, kReserve };

  // Takes a connection slot for the address `key`, or says which limit
  // refuses it: the global cap; the address's own cap; or, in the last eighth
  // of the global cap (kept for light clients), an address already holding an
  // eighth of its own cap.
  Refusal Admit(const std::string& key) {
    const ListenerConfig& l = opts.listener;
    std::lock_guard g(slots_mu);
    if (connections >= l.max_connections) return Refusal::kGlobal;
    auto it = per_address.try_emplace(key, 0).first;  // a refused address already holds one
    const size_t held = it->second;
    if (held >= l.max_connections_per_address) return Refusal::kPerAddress;
    if (connections >= ReserveFrom() && held >= LightClientLimit()) return Refusal::kReserve;
    ++it->second;
    ++connections;
    return Refusal::kNone;
  }
  size_t ReserveFrom() const { return opts.listener.max_connections - opts.listener.max_connections / 8; }
  size_t LightClientLimit() const { return std::max<size_t>(1, opts.listener.max_connections_per_address / 8); }

  void Release(const std::string& key) {
    std::lock_guard g(slots_mu);
    --connections;
    auto it = per_address.find(key);
    if (it != per_address.end() && --it->second == 0) per_address.erase(it);
  }

  // One log line per 10 s at most: the refusals come by the thousand.
  void WarnRefused(Refusal why) {
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now().time_since_epoch()).count();
    int64_t last = last_full_warning.load();
    if (now - last < 10 || !last_full_warning.compare_exchange_strong(last, now)) return;
    const ListenerConfig& l = opts.listener;
    switch (why) {
      case Refusal::kGlobal:
        log::Warn("server: max_connections (" + std::to_string(l.max_connections) +
                  ") reached; closing new connections");
        break;
      case Refusal::kPerAddress:
        log::Warn("server: max_connections_per_address (" + std::to_string(l.max_connections_per_address) +
                  ") reached by a client address; closing its new connections");
        break;
      case Refusal::kReserve:
        log::Warn("server: " + std::to_string(ReserveFrom()) + " of max_connections (" +
                  std::to_string(l.max_connections) + ") in use; closing new connections from addresses holding " +
                  std::to_string(LightClientLimit()) + " or more");
        break;
      default:
        break;
    }
  }

  // Writes `r`; false when the connection cannot carry another request (a
  // streamed body broke off or the client went away).
  template <class Stream>
  net::awaitable<bool> WriteResponse(Stream& stream, const api::HttpResponse& r, unsigned version, bool keep_alive,
                                     bool head) {
    // 1xx, 204 and 304 never carry a body (sys/health?uninitcode=204 asks for one).
    bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
    // (HEAD never reaches a streamed body: the snapshot path answers it 405.)
    if (r.stream && !bodiless && !head) co_return co_await WriteStreamed(stream, r, version, keep_alive);
    http::response<http::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    if (head && !bodiless) {
      // HEAD: the GET's Content-Length, no body (RFC 9110 §9.3.2).
      res.content_length(r.body.size());
    } else {
      if (!bodiless) res.body() = r.body;
      res.prepare_payload();
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(opts.listener.max_request_duration_s));
    auto [ec, n] = co_await http::async_write(stream, res, kTuple);
    co_return !ec;
  }

  // A body read from its source while it is sent, in chunks (HTTP/1.0: until
  // the connection closes): memory stays at one buffer whatever its size.
  // Each read runs on the wait pool (the source blocks on the store) and each
  // write has the usual deadline, so a client that stops reading is dropped.
  // A source that fails ends the connection without the last chunk: the
  // client sees a broken transfer, never a short body that looks whole.
  template <class Stream>
  net::awaitable<bool> WriteStreamed(Stream& stream, const api::HttpResponse& r, unsigned version, bool keep_alive) {
    static constexpr size_t kChunkBytes = 256 * 1024;
    struct Chunk {
      Status status;
      size_t size = 0;
    };
    http::response<http::buffer_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(r.status));
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive && version >= 11);
    if (version >= 11) res.chunked(true);
    res.body().data = nullptr;
    res.body().more = true;
    http::response_serializer<http::buffer_body> sr{res};
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::seconds(opts.listener.max_request_duration_s));
    if (auto [ec, n] = co_await http::async_write_header(stream, sr, kTuple); ec) co_return false;
    auto buf = std::make_unique<char[]>(kChunkBytes);
    ByteSource* source = r.stream.get();
    for (;;) {
      Chunk chunk = co_await net::co_spawn(
          *wait_workers,
          [source, &buf]() -> net::awaitable<Chunk> {
            Result<size_t> n = source->Read(buf.get(), kChunkBytes);
            co_return n.ok() ? Chunk{Status::Ok(), *n} : Chunk{n.status(), 0};
          },
          use_awaitable);
      if (!chunk.status.ok()) {
        log::Warn("server: a streamed response broke off (" + chunk.status.message() + "); closing the connection");
        boost::system::error_code ignored;
        lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return false;
      }
      res.body().data = chunk.size > 0 ? buf.get() : nullptr;
      res.body().size = chunk.size;
      res.body().more = chunk.size > 0;
      lowest.expires_after(std::chrono::seconds(opts.listener.max_request_duration_s));
      auto [ec, n] = co_await http::async_write(stream, sr, kTuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return false;
      if (chunk.size == 0) co_return sr.is_done() && res.keep_alive();
    }
  }

  // Lingering close after an early error answer (413): keep reading and
  // discarding what the client is still sending, bounded in bytes and time,
  // so it reads our response instead of a connection reset.
  template <class Stream>
  net::awaitable<void> Drain(Stream& stream) {
    std::vector<char> scratch(64 * 1024);
    size_t total = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (total < (64u << 20) && std::chrono::steady_clock::now() < deadline) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
      auto [ec, n] = co_await stream.async_read_some(net::buffer(scratch), kTuple);
      if (ec) break;
      total += n;
    }
  }

  // Counts a request from the moment its headers are read until its response
  // is written (or the session dies), so Run() can wait for it on shutdown.
  struct InflightGuard {
    std::atomic<size_t>& n;
    explicit InflightGuard(std::atomic<size_t>& c) : n(c) { n++; }
    ~InflightGuard() { n--; }
    InflightGuard(const InflightGuard&) = delete;
    InflightGuard& operator=(const InflightGuard&) = delete;
  };

  // The request without its body (not read yet).
  static api::HttpRequest HeadOf(const http::request<http::string_body>& msg, const tcp::endpoint* remote) {
    api::HttpRequest req;
    // method_string keeps custom verbs such as LIST (Beast: verb::unknown).
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.headers.reserve(std::distance(msg.begin(), msg.end()));
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (remote) {
      req.remote_addr = remote->address().to_string();
      req.remote_port = remote->port();
    }
    return req;
  }

  // A request from a standby, which holds the cluster certificate: the
  // client's own address comes in X-Forwarded-For (audit, bound CIDRs).
  static void MarkForwarded(api::HttpRequest& req) {
    req.via_cluster = true;
    std::string_view fwd = req.Header("x-forwarded-for");
    boost::system::error_code ec;
    auto addr = net::ip::make_address(std::string(fwd.substr(0, fwd.find(','))), ec);
    if (!ec) req.remote_addr = addr.to_string();
  }

  net::awaitable<void> Session(tcp::socket sock, bool cluster) {
    const ListenerConfig& l = opts.listener;
    // The session keeps its context alive: a SIGHUP reload swaps the current
    // one for new connections only.
    std::shared_ptr<ssl::context> ctx = cluster ? cluster_tls->Current() : tls->Current();
    if (!ctx) co_return;  // the cluster listener of a sealed node
    LoopResumer resumer(sock.get_executor());
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(sock)), *ctx);
    auto& lowest = beast::get_lowest_layer(stream);
    // A connection that never starts TLS holds a slot for this long at most.
    lowest.expires_after(std::chrono::seconds(l.tls_handshake_timeout_s));
    auto [hs_ec] = co_await stream.async_handshake(ssl::stream_base::server, kTuple);
    if (hs_ec) co_return;

    boost::system::error_code remote_ec;
    const tcp::endpoint remote = lowest.socket().remote_endpoint(remote_ec);
    beast::flat_buffer buffer;
    bool first = true;
    while (!stopping.load()) {
      if (!first && buffer.size() == 0) {
        // Idle keep-alive wait: up to idle_timeout for the next request's
        // first bytes; the header_timeout below starts once they arrive.
        lowest.expires_after(std::chrono::seconds(l.idle_timeout_s));
        auto [iec, in] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
        if (iec) break;  // closed, reset or idle too long: nothing to answer
        buffer.commit(in);
      }
      first = false;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(l.max_header_size));
      if (l.max_request_size > 0) {
        parser.body_limit(l.max_request_size);
      } else {
        parser.body_limit(boost::none);
      }
      // Slowloris: the whole header block must arrive within header_timeout.
      lowest.expires_after(std::chrono::seconds(l.header_timeout_s));
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kTuple);
      if (hec) {
        if (hec == http::error::body_limit) {
          // Content-Length above the limit is refused before the body is read.
          co_await WriteResponse(stream, api::ErrorResponse(413, "request body too large"), 11, false, false);
          co_await Drain(stream);
        } else if (hec == http::error::header_limit) {
          co_await WriteResponse(stream, api::ErrorResponse(431, "request headers too large"), 11, false, false);
        } else if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
                   hec != net::ssl::error::stream_truncated &&
                   hec != net::error::eof && hec != net::error::connection_reset) {
          co_await WriteResponse(stream, api::ErrorResponse(400, "malformed request"), 11, false, false);
        }
        break;
      }
      api::HttpRequest req = HeadOf(parser.get(), remote_ec ? nullptr : &remote);
      if (cluster) MarkForwarded(req);
      if (auto bad = CheckFraming(parser.get().version(), req.headers)) {
        // The body's length is unknown: nothing after these headers can be
        // trusted to start a request, so the connection ends here.
        co_await WriteResponse(stream, api::ErrorResponse(bad->status, bad->message), 11, false, false);
        co_await Drain(stream);
        break;
      }
      // The handler's limit for these headers (small without a token) within
      // the listener's: past it, 413 before reading when the length is known.
      size_t body_limit = handler->BodyLimit(req);
      if (l.max_request_size > 0) body_limit = std::min(body_limit, l.max_request_size);
      if (parser.content_length() && *parser.content_length() > body_limit) {
        co_await WriteResponse(stream, api::ErrorResponse(413, "request body too large"), 11, false, false);
        co_await Drain(stream);
        break;
      }
      if (body_limit != SIZE_MAX) parser.body_limit(body_limit);
      lowest.expires_after(std::chrono::seconds(l.max_request_duration_s));
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kTuple);
      if (bec) {
        if (bec == http::error::body_limit) {
          co_await WriteResponse(stream, api::ErrorResponse(413, "request body too large"), 11, false, false);
          co_await Drain(stream);
        } else if (bec == beast::error::timeout) {
          co_await WriteResponse(stream, api::ErrorResponse(408, "request timed out"), 11, false, false);
        } else if (bec != http::error::end_of_stream && bec != net::ssl::error::stream_truncated &&
                   bec != net::error::eof && bec != net::error::connection_reset) {
          co_await WriteResponse(stream, api::ErrorResponse(400, "malformed request"), 11, false, false);
        }
        break;
      }
      InflightGuard guard(inflight);
      auto& msg = parser.get();
      req.body = std::move(msg.body());
      bool keep_alive = msg.keep_alive() && !stopping.load();
      bool head = msg.method() == http::verb::head;
      unsigned version = msg.version();

      // Where it runs follows the route the request resolves to.
      std::unique_ptr<api::HttpCall> call = handler->Begin(req);
      api::HttpResponse resp;
      if (call->run_on() == api::RunOn::kIoThread) {
        // On this I/O thread; an audit write suspends it (AuditBroker).
        resp = co_await AwaitTask(call->RunAsync(&resumer));
      } else {
        // The logical layer blocks (RocksDB, libpq, TokenReview): run it on a
        // worker pool and resume on this connection's loop afterwards. Two
        // pools: CPU-bound work wants few threads on few cores (audited reads
        // lost a fifth of their throughput going from 8 to 32), work that
        // waits (a synced write, PostgreSQL, a TokenReview) wants many.
        net::thread_pool& pool = call->run_on() == api::RunOn::kWaitPool ? *wait_workers : *workers;
        api::HttpCall* c = call.get();
        resp = co_await net::co_spawn(
            pool, [c]() -> net::awaitable<api::HttpResponse> { co_return c->Run(); }, use_awaitable);
      }
      const bool reusable = co_await WriteResponse(stream, resp, version, keep_alive && !stopping.load(), head);
      if (resp.stream) {
        // Dropped on the wait pool: the source's destructor waits for its
        // producer to stop, which may be in the middle of a storage read.
        std::shared_ptr<ByteSource> done = std::move(resp.stream);
        co_await net::co_spawn(
            *wait_workers, [d = &done]() -> net::awaitable<void> { d->reset(); co_return; }, use_awaitable);
      }
      if (!reusable || !keep_alive || stopping.load()) break;
    }
    lowest.expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(kTuple);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  impl_->RequestStop();
  if (impl_->workers) impl_->workers->join();
  if (impl_->wait_workers) impl_->wait_workers->join();
}

namespace {

// Binds `acceptor` to `address` and listens; the bound port.
Result<uint16_t> Listen(tcp::acceptor& acceptor, const std::string& address) {
  SB_ASSIGN_OR_RETURN(tcp::endpoint ep, ParseAddress(address));
  boost::system::error_code ec;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return InvalidArgument("cannot listen on " + address + ": " + ec.message());
  return acceptor.local_endpoint().port();
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(const Options& options, api::HttpHandler* handler) {
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  impl->handler = handler;
  SB_ASSIGN_OR_RETURN(impl->tls, TlsContext::Create(options.listener));
  impl->workers = std::make_unique<net::thread_pool>(static_cast<size_t>(std::max(1, options.worker_threads)));
  impl->wait_workers =
      std::make_unique<net::thread_pool>(static_cast<size_t>(std::max(1, options.wait_worker_threads)));
  SB_ASSIGN_OR_RETURN(impl->port, Listen(impl->acceptor, options.listener.address));
  if (!options.cluster_address.empty()) {
    impl->cluster_tls = std::make_unique<ClusterTlsContext>(options.cluster_identity);
    SB_ASSIGN_OR_RETURN(impl->cluster_port, Listen(impl->cluster_acceptor, options.cluster_address));
  }
  impl->signals.add(SIGINT);
  impl->signals.add(SIGTERM);
  impl->signals.add(SIGHUP);
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }
uint16_t HttpServer::cluster_port() const { return impl_->cluster_port; }
void HttpServer::SetReloadHook(std::function<void()> hook) {
  std::lock_guard l(impl_->hook_mu);
  impl_->reload_hook = std::move(hook);
}
void HttpServer::Reload() { impl_->Reload(); }
void HttpServer::Stop() { impl_->RequestStop(); }

void HttpServer::Run() {
  Impl& s = *impl_;
  net::co_spawn(s.ioc, s.Accept(s.acceptor, false), net::detached);
  if (s.cluster_tls) net::co_spawn(s.ioc, s.Accept(s.cluster_acceptor, true), net::detached);
  net::co_spawn(s.ioc, s.WaitSignals(), net::detached);
  std::vector<std::thread> threads;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> idle_guards;
  for (int i = 1; i < s.opts.io_threads; ++i) {
    s.more_loops.push_back(std::make_unique<net::io_context>(1));
    idle_guards.push_back(net::make_work_guard(*s.more_loops.back()));  // run() waits for connections
  }
  threads.emplace_back([&s] { s.ioc.run(); });
  for (auto& loop : s.more_loops) threads.emplace_back([&loop] { loop->run(); });
  {
    std::unique_lock l(s.stop_mu);
    s.stop_cv.wait(l, [&s] { return s.stopping.load(); });
  }
  // Let in-flight requests finish (bounded), then stop the loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (s.inflight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  s.ioc.stop();
  for (auto& loop : s.more_loops) loop->stop();
  for (auto& t : threads) t.join();
}

}  // namespace sealbox::server
