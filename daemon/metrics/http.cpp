#include "http.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "config.hpp"
#include "log.hpp"
#include "state.hpp"

namespace procmon::daemon::metrics {

namespace {

// A scraper opens one connection, maybe two; a few more for people with
// curl. Past the limit libmicrohttpd refuses the connection at accept.
constexpr unsigned kMaxConnections = 32;
// One address may hold a quarter of them: a client trickling requests from
// one host cannot lock out a Prometheus scraping from another.
constexpr unsigned kMaxConnectionsPerAddress = 8;
constexpr unsigned kIdleTimeoutSeconds = 10;
constexpr size_t kConnectionMemory = 32 * 1024;  // request headers: a scrape's are < 1 KiB

// libmicrohttpd's complaints (a client that went away mid-request, ...):
// one line a second at most, so that no client can flood the log.
void mhd_log(void *, const char *format, va_list ap) {
    static std::mutex mutex;
    static uint64_t last_ns = 0, unlogged = 0;
    std::lock_guard<std::mutex> lock(mutex);
    const uint64_t now = mono_ns();
    if (last_ns != 0 && now - last_ns < 1000000000) {
        ++unlogged;
        return;
    }
    char text[512];
    std::vsnprintf(text, sizeof text, format, ap);
    const std::size_t n = std::strlen(text);
    if (n > 0 && text[n - 1] == '\n') text[n - 1] = '\0';
    if (unlogged > 0) log(Level::warning, "metrics http: %s (and %llu more since the last)", text,
                          static_cast<unsigned long long>(unlogged));
    else log(Level::warning, "metrics http: %s", text);
    last_ns = now;
    unlogged = 0;
}

MHD_Result on_request(void *cls, MHD_Connection *connection, const char *url, const char *method, const char *,
                      const char *, size_t *upload_data_size, void **) {
    auto *server = static_cast<HttpServer *>(cls);
    const char *accept = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    HttpReply reply;
    try {
        reply = server->handle({method, url, accept ? accept : ""});
    } catch (const std::exception &e) {  // no room to render: say so rather than end the thread
        reply = {500, "text/plain; charset=utf-8", std::string("procmond: ") + e.what() + "\n", nullptr};
    }
    *upload_data_size = 0;  // a body (a POST's) is not read: the reply refuses it
    MHD_Response *response =
        MHD_create_response_from_buffer(reply.body.size(), reply.body.data(), MHD_RESPMEM_MUST_COPY);
    if (response == nullptr) return MHD_NO;  // out of memory: libmicrohttpd closes the connection
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
    if (reply.allow != nullptr) MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, reply.allow);
    const MHD_Result queued = MHD_queue_response(connection, reply.status, response);
    MHD_destroy_response(response);
    return queued;
}

}  // namespace

HttpServer::~HttpServer() {
    if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

bool HttpServer::start(const std::string &listen, std::string &why) {
    sockaddr_storage addr{};
    if (!parse_listen_address(listen, addr, why)) return false;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    errno = 0;
    daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &on_request, this, MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, nullptr,
        MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr *>(&addr), MHD_OPTION_CONNECTION_LIMIT, kMaxConnections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, kMaxConnectionsPerAddress,
        MHD_OPTION_CONNECTION_TIMEOUT, kIdleTimeoutSeconds, MHD_OPTION_CONNECTION_MEMORY_LIMIT, kConnectionMemory,
        MHD_OPTION_END);
    if (daemon_ == nullptr) {
        why = "cannot listen at " + listen + (errno ? std::string(": ") + std::strerror(errno) : std::string());
        return false;
    }
    const MHD_DaemonInfo *info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port_ = info != nullptr ? info->port : 0;
    return true;
}

}  // namespace procmon::daemon::metrics
