// The objects behind procmon_ctx and procmon_subscription: they tie the
// arena, the record source (collect/record_source.hpp) and the event engine together,
// so they live here, above every layer they use. A context is destroyed in
// reverse order of declaration, so the arena goes last.
#pragma once

#include <memory>

#include "collect/record_source.hpp"
#include "core/arena.hpp"
#include "events/engine.hpp"
#include "events/subscription.hpp"
#include "journal/reader.hpp"
#include "journal/writer.hpp"
#include "remote/feed.hpp"
#include "remote/session.hpp"

struct procmon_ctx {
    std::shared_ptr<procmon::Arena> arena;
    std::unique_ptr<procmon::RecordSource> records;  // this machine's, or decoded from bytes
    uint64_t enumerations = 0;
    procmon::events::EngineOptions event_options;
    std::shared_ptr<procmon::events::Engine> engine;  // made by the first procmon_subscribe
    std::unique_ptr<procmon::remote::Session> remote;  // served by procmond: records is its source, no engine
    ~procmon_ctx() {
        if (engine) engine->shutdown();  // subscriptions outlive us, closed
    }
};

// Holds its own references: procmon_unsubscribe may come after procmon_close.
struct procmon_subscription {
    std::shared_ptr<procmon::events::Subscription> sub;
    std::shared_ptr<procmon::events::Engine> engine;  // a local context's
    std::shared_ptr<procmon::remote::Feed> feed;      // or a remote one's
};

// A journal writer and, when it records a context, its subscription there.
struct procmon_journal {
    std::shared_ptr<procmon::events::Subscription> sub;
    std::shared_ptr<procmon::events::Engine> engine;
    std::unique_ptr<procmon::journal::Writer> writer;
    ~procmon_journal() {
        writer.reset();  // stops its thread, which pops from sub
    }
};

struct procmon_journal_reader {
    std::unique_ptr<procmon::journal::Reader> reader;
};

namespace procmon::capi {

// procmon_subscribe's checks and work, for the journal's own subscription
// too: a started subscription in `out` (and for a remote context, the feed
// that fills it in `feed`), or a status code with the thread's
// error naming `fn`.
int subscribe(procmon_ctx *ctx, const procmon_subscribe_options *opts, const char *fn,
              std::shared_ptr<events::Subscription> &out, std::shared_ptr<remote::Feed> &feed);

}  // namespace procmon::capi
