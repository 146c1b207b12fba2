// The HTTP side of /metrics: libmicrohttpd (Debian's libmicrohttpd-dev,
// LGPL, linked dynamically) with its one internal epoll thread, a limit on
// connections and on each one's memory and idle time. HTTP parsing is left
// to a library hardened for it; this file only maps requests to replies.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

struct MHD_Daemon;

namespace procmon::daemon::metrics {

struct HttpRequest {
    std::string_view method, path, accept;
};

struct HttpReply {
    unsigned status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    const char *allow = nullptr;  // the Allow header of a 405
};

class HttpServer {
public:
    using Handler = std::function<HttpReply(const HttpRequest &)>;
    explicit HttpServer(Handler handler) : handler_(std::move(handler)) {}
    ~HttpServer();  // stops the thread, closes every connection
    HttpServer(const HttpServer &) = delete;
    HttpServer &operator=(const HttpServer &) = delete;

    // Listens at "ADDR:PORT" (config.hpp's parse_listen_address); false
    // with `why`. port() is then the one bound (for port 0).
    bool start(const std::string &listen, std::string &why);
    uint16_t port() const { return port_; }

    // Called by libmicrohttpd's thread (public for its C callback).
    HttpReply handle(const HttpRequest &r) { return handler_(r); }

private:
    Handler handler_;
    MHD_Daemon *daemon_ = nullptr;
    uint16_t port_ = 0;
};

}  // namespace procmon::daemon::metrics
