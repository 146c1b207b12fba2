#include "reload.hpp"

#include "capi/context.hpp"
#include "log.hpp"
#include "platform/socket.hpp"

namespace procmon::daemon {

void Reloader::reload(const char *reason, bool only_if_changed) {
    const auto running = state_.config();
    if (running->path.empty()) return;  // on defaults: no file to read
    std::string text, why;
    if (!read_file(running->path, text, why)) {
        if (only_if_changed) return;  // an editor between its write and its rename: the next event says
        ++state_.config_reload_failures;
        log(Level::error, "reload (%s): %s; the config of generation %llu stays", reason, why.c_str(),
            static_cast<unsigned long long>(state_.config_generation()));
        return;
    }
    if (only_if_changed && text == last_text_) return;
    last_text_ = text;
    std::vector<std::string> errors;
    auto parsed = parse_config(running->path, text, errors);
    if (!parsed) {
        ++state_.config_reload_failures;
        for (const std::string &e : errors) log(Level::error, "reload (%s): %s", reason, e.c_str());
        log(Level::error, "reload (%s): %zu error(s): the config of generation %llu stays", reason, errors.size(),
            static_cast<unsigned long long>(state_.config_generation()));
        return;
    }
    // What only a restart can change keeps its running value.
    auto loaded = std::make_shared<Config>(*parsed);
    overrides_.apply(*loaded);
    for (const std::string &key : restart_keys_changed(*running, *loaded))
        log(Level::warning, "reload (%s): %s changed: it takes a restart; the running value stays", reason,
            key.c_str());
    loaded->socket.path = running->socket.path;
    loaded->journal.dir = running->journal.dir;
    loaded->journal.fsync = running->journal.fsync;
    loaded->journal.fsync_interval_ms = running->journal.fsync_interval_ms;
    loaded->journal.segment_bytes = running->journal.segment_bytes;
    loaded->context.arena_cap_bytes = running->context.arena_cap_bytes;
    loaded->context.event_source = running->context.event_source;
    loaded->metrics.listen = running->metrics.listen;  // or --metrics's
    apply_live(*running, *loaded);
    state_.publish(loaded);
    log(Level::info, "reload (%s): %s in force, generation %llu", reason, loaded->path.c_str(),
        static_cast<unsigned long long>(state_.config_generation()));
}

void Reloader::apply_live(const Config &running, Config &loaded) {
    const auto &c = loaded.context;
    {
        std::lock_guard<std::mutex> lock(state_.context_mutex);
        procmon_ctx *ctx = state_.context;
        ctx->event_options.poll_interval_ms = c.poll_interval_ms;
        ctx->event_options.high_watermark = c.high_watermark_percent;
        ctx->event_options.low_watermark = c.low_watermark_percent;
        if (ctx->engine) ctx->engine->set_polling(c.poll_interval_ms, c.high_watermark_percent, c.low_watermark_percent);
    }
    if (loaded.journal.max_bytes != running.journal.max_bytes || loaded.journal.max_age_ms != running.journal.max_age_ms)
        state_.journal->writer->set_retention(loaded.journal.max_bytes, loaded.journal.max_age_ms * 1000000u);
    if (listener_ != nullptr && (loaded.socket.mode != running.socket.mode || loaded.socket.gid != running.socket.gid)) {
        if (platform::set_socket_file_mode(*listener_, loaded.socket.path, loaded.socket.mode, loaded.socket.gid) !=
            PROCMON_OK) {
            log(Level::error, "reload: socket %s: %s; its mode and group stay as they were", loaded.socket.path.c_str(),
                procmon_error_last()->message);
            loaded.socket.mode = running.socket.mode;  // what the file has: the next reload tries again
            loaded.socket.gid = running.socket.gid;
        }
    }
}

}  // namespace procmon::daemon
