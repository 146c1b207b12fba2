#include "server.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <list>
#include <memory>
#include <thread>

#include "capi/context.hpp"
#include "connection.hpp"
#include "log.hpp"
#include "metrics/endpoint.hpp"
#include "platform/files.hpp"
#include "platform/socket.hpp"
#include "reload.hpp"
#include "state.hpp"

namespace procmon::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBacklog = 128;
// An editor's write, then its rename, take microseconds: 20 ms lets them
// land and keeps a reload by file change well under the ticket's second
// (daemon_bench: p99 about 20 ms; it was 100 ms with a 100 ms wait).
constexpr auto kReloadDebounce = std::chrono::milliseconds(20);
constexpr int kRefuseSendMs = 100;
// After accept fails for want of fds (EMFILE, ENFILE) or memory, the
// listener stays readable: it is not watched for this long, so the main
// loop does not spin, and the failure is logged at most once a second.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);
constexpr auto kAcceptLogEvery = std::chrono::seconds(1);

struct Worker {
    std::thread thread;
    uint32_t uid = 0;  // the peer's, for limits.max_clients_per_uid
    std::atomic<bool> finished{false};
};

// The directory a file is in, for the watch on the config.
std::string directory_of(const std::string &path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

int open_context(const Config &c, procmon_ctx *&ctx) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    o.arena_cap_bytes = c.context.arena_cap_bytes;
    o.event_source = c.context.event_source;
    o.poll_interval_ms = c.context.poll_interval_ms;
    o.high_watermark_percent = c.context.high_watermark_percent;
    o.low_watermark_percent = c.context.low_watermark_percent;
    o.endpoint = "";  // this machine, whatever PROCMON_ENDPOINT says: the daemon is the endpoint
    return procmon_open(&ctx, &o);
}

int open_journal(const Config &c, procmon_ctx *ctx, procmon_journal *&j) {
    procmon_subscribe_options all = PROCMON_SUBSCRIBE_OPTIONS_INIT;
    all.events = PROCMON_EVENTS_ALL;
    procmon_journal_options o = PROCMON_JOURNAL_OPTIONS_INIT;
    o.fsync = c.journal.fsync;
    o.fsync_interval_ms = c.journal.fsync_interval_ms;
    o.segment_bytes = c.journal.segment_bytes;
    o.max_bytes = c.journal.max_bytes;
    o.max_age_ms = c.journal.max_age_ms;
    o.filter = &all;
    return procmon_journal_open(&j, ctx, c.journal.dir.c_str(), &o);
}

std::string last_error_text() {
    return std::string(procmon_strerror(procmon_error_last()->code)) + ": " + procmon_error_last()->message;
}

class Server {
public:
    Server(std::shared_ptr<const Config> config, std::string text, Overrides overrides)
        : state_(config, wall_ns()), reloader_(state_, std::move(text), std::move(overrides)) {}
    ~Server();

    int run();

private:
    bool start();
    void accept_all(const platform::Socket &listener);
    // Why a peer may not have one more connection now, or "" when it may.
    std::string over_limit(const Config &cfg, uint32_t uid) const;
    void reap(bool all);

    State state_;
    Reloader reloader_;
    std::unique_ptr<metrics::Endpoint> metrics_;  // when metrics.listen is set
    int signal_fd_ = -1;
    std::list<Worker> workers_;
    platform::Waker worker_done_;  // a connection thread ended: join it
    Clock::time_point accept_resumes_{};  // accept failed: the listener is not watched until then
    Clock::time_point accept_logged_{};
    uint64_t accept_failures_unlogged_ = 0;
};

Server::~Server() {
    metrics_.reset();  // reads the journal and the context: goes before them
    reap(true);
    if (state_.journal) {
        const int rc = procmon_journal_close(state_.journal);  // writes and syncs what is queued
        if (rc != PROCMON_OK) log(Level::error, "closing the journal: %s", last_error_text().c_str());
    }
    procmon_close(state_.context);
    if (signal_fd_ >= 0) ::close(signal_fd_);
}

bool Server::start() {
    const auto cfg = state_.config();
    if (open_context(*cfg, state_.context) != PROCMON_OK) {
        log(Level::error, "opening the context: %s", last_error_text().c_str());
        return false;
    }
    // The journal makes its own directory, one level: its parent
    // (/var/lib/procmond) is made here; a failure shows in the open below.
    platform::make_directory(directory_of(cfg->journal.dir).c_str());
    if (open_journal(*cfg, state_.context, state_.journal) != PROCMON_OK) {
        log(Level::error, "opening the journal %s: %s", cfg->journal.dir.c_str(), last_error_text().c_str());
        return false;
    }
    state_.journal_dir = cfg->journal.dir;
    state_.journal->writer->set_sync_observer([this](uint64_t ns) { state_.journal_fsync.observe_ns(ns); });
    if (!cfg->metrics.listen.empty()) {
        metrics_ = std::make_unique<metrics::Endpoint>(state_);
        std::string why;
        if (!metrics_->start(cfg->metrics.listen, why)) {
            log(Level::error, "metrics: %s", why.c_str());
            return false;
        }
        // The address as given, with the port bound (port 0 picks one).
        const std::string &listen = cfg->metrics.listen;
        log(Level::info, "metrics at http://%s:%u/metrics", listen.substr(0, listen.rfind(':')).c_str(),
            static_cast<unsigned>(metrics_->port()));
    }
    return true;
}

void Server::reap(bool all) {
    for (auto it = workers_.begin(); it != workers_.end();) {
        if (all || it->finished) {
            it->thread.join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
}

std::string Server::over_limit(const Config &cfg, uint32_t uid) const {
    if (uid == 0) return "";  // an admin can always get in, however busy the daemon
    std::size_t all = 0, of_uid = 0;
    for (const Worker &w : workers_) {
        if (w.finished) continue;
        ++all;
        if (w.uid == uid) ++of_uid;
    }
    if (cfg.limits.max_clients_per_uid != 0 && of_uid >= cfg.limits.max_clients_per_uid)
        return "too many clients of uid " + std::to_string(uid) +
               " (limits.max_clients_per_uid = " + std::to_string(cfg.limits.max_clients_per_uid) + ")";
    if (all >= cfg.limits.max_clients)
        return "too many clients (limits.max_clients = " + std::to_string(cfg.limits.max_clients) + ")";
    return "";
}

void Server::accept_all(const platform::Socket &listener) {
    for (;;) {
        platform::Socket conn;
        const int rc = platform::accept_local(listener, conn);
        if (rc == PROCMON_EAGAIN) return;
        if (rc != PROCMON_OK) {
            const auto now = Clock::now();
            accept_resumes_ = now + kAcceptBackoff;
            ++accept_failures_unlogged_;
            if (now - accept_logged_ >= kAcceptLogEvery) {
                log(Level::error, "accept: %s (%llu failure(s) since the last such line); not accepting for %lld ms",
                    last_error_text().c_str(), static_cast<unsigned long long>(accept_failures_unlogged_),
                    static_cast<long long>(kAcceptBackoff.count()));
                accept_logged_ = now;
                accept_failures_unlogged_ = 0;
            }
            return;
        }
        ++state_.connections_total;
        platform::PeerCredentials peer;
        if (conn.peer(peer) != PROCMON_OK) {
            log(Level::error, "a connection whose peer cannot be known (SO_PEERCRED): %s; closing",
                last_error_text().c_str());
            ++state_.connections_refused;
            continue;
        }
        const auto cfg = state_.config();
        if (const std::string why = over_limit(*cfg, peer.uid); !why.empty()) {
            ++state_.connections_refused;
            log(Level::warning, "client pid %d uid %u refused: %s", peer.pid, peer.uid, why.c_str());
            std::vector<unsigned char> frame;
            protocol::encode(frame, protocol::Error{PROCMON_EAGAIN, why});
            conn.send_all(frame.data(), frame.size(), kRefuseSendMs);
            continue;
        }
        Worker &w = workers_.emplace_back();
        w.uid = peer.uid;
        w.thread = std::thread([this, &w, c = std::move(conn), peer]() mutable {
            pthread_setname_np(pthread_self(), "procmond-client");  // ps -L, and the tests count them
            // Nothing may escape a connection's thread: std::terminate would
            // end the daemon and every other client. serve_connection catches
            // what a request throws and tells its peer; this is the last net.
            try {
                serve_connection(state_, std::move(c), peer);
            } catch (const std::exception &e) {
                log(Level::error, "client pid %d uid %u: %s escaped its connection: closing", peer.pid, peer.uid,
                    e.what());
            } catch (...) {
                log(Level::error, "client pid %d uid %u: an unknown exception escaped its connection: closing",
                    peer.pid, peer.uid);
            }
            w.finished = true;
            worker_done_.wake();
        });
    }
}

int Server::run() {
    if (!start()) return 1;
    const auto cfg = state_.config();
    platform::Socket listener;
    if (platform::listen_local(cfg->socket.path, cfg->socket.mode, cfg->socket.gid, kBacklog, listener) != PROCMON_OK) {
        log(Level::error, "listening at %s: %s", cfg->socket.path.c_str(), last_error_text().c_str());
        return 1;
    }
    reloader_.set_listener(&listener);
    sigset_t wanted;
    sigemptyset(&wanted);
    sigaddset(&wanted, SIGTERM);
    sigaddset(&wanted, SIGINT);
    sigaddset(&wanted, SIGHUP);
    signal_fd_ = signalfd(-1, &wanted, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) {
        log(Level::error, "signalfd: %s", std::strerror(errno));
        return 1;
    }
    std::unique_ptr<platform::DirectoryWatch> watch;
    if (!cfg->path.empty()) watch = std::make_unique<platform::DirectoryWatch>(directory_of(cfg->path).c_str());
    procmon_stats st{};
    st.size = sizeof st;
    {
        std::lock_guard<std::mutex> lock(state_.context_mutex);  // the metrics thread may be in it
        procmon_stats_get(&st, state_.context);
    }
    log(Level::info, "listening at %s (mode %04o), journal %s, events from %s, config %s", cfg->socket.path.c_str(),
        cfg->socket.mode, cfg->journal.dir.c_str(), st.source_name,
        cfg->path.empty() ? "built-in defaults" : cfg->path.c_str());

    Clock::time_point reload_due{};
    for (;;) {
        const bool accept_paused = Clock::now() < accept_resumes_;
        Clock::time_point wake_at = reload_due;
        if (accept_paused && (wake_at == Clock::time_point{} || accept_resumes_ < wake_at)) wake_at = accept_resumes_;
        const int timeout = wake_at == Clock::time_point{}
                                ? -1
                                : static_cast<int>(std::max<int64_t>(
                                      0, std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - Clock::now())
                                             .count() + 1));
        platform::Watch watches[4] = {
            {accept_paused ? platform::WaitHandle() : listener.handle()},
            {platform::WaitHandle::from_native(signal_fd_)},
            {worker_done_.handle()},
            {watch ? watch->handle() : platform::WaitHandle()},
        };
        platform::wait_ready(watches, 4, timeout);
        if (watches[1].readable) {
            signalfd_siginfo si{};
            bool stop = false;
            while (::read(signal_fd_, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
                if (si.ssi_signo == SIGHUP) reloader_.reload("SIGHUP", false);
                else stop = true;
            }
            if (stop) {
                log(Level::info, "stopping (signal): closing %zu client(s)", state_.client_count());
                break;
            }
        }
        if (watches[2].readable) {
            worker_done_.drain();
            reap(false);
        }
        if (watches[3].readable) {
            watch->drain();
            // Let the editor finish (write, then rename); timed from the first
            // change, so that other files written often in that directory
            // (a log) cannot put the reload off for ever.
            if (reload_due == Clock::time_point{}) reload_due = Clock::now() + kReloadDebounce;
        }
        if (reload_due != Clock::time_point{} && Clock::now() >= reload_due) {
            reload_due = {};
            reloader_.reload("file changed", true);
        }
        if (watches[0].readable) accept_all(listener);
    }
    state_.shutdown.wake();
    metrics_.reset();
    reap(true);
    reloader_.set_listener(nullptr);
    listener.close();
    ::unlink(cfg->socket.path.c_str());
    uint64_t durable = 0;
    if (procmon_journal_sync(state_.journal, 10000, &durable) != PROCMON_OK)
        log(Level::error, "syncing the journal: %s", last_error_text().c_str());
    log(Level::info, "stopped: journal durable to seq %llu", static_cast<unsigned long long>(durable));
    return 0;
}

}  // namespace

int run_server(std::shared_ptr<const Config> config, std::string config_text, Overrides overrides) {
    // Signals are taken by the main loop from a signalfd: blocked in every
    // thread, which inherit this mask. A peer gone mid-send is an error
    // return, not a SIGPIPE.
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
    signal(SIGPIPE, SIG_IGN);
    Server server(std::move(config), std::move(config_text), std::move(overrides));
    return server.run();
}

}  // namespace procmon::daemon
