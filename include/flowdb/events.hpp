// flowdb/events.hpp: EventKind, Event, EventListener and the detail helpers that
// own listeners.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_EVENTS_HPP
#define FLOWDB_EVENTS_HPP

#include "common.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace flowdb {

/// What an Event reports (flowdb_event_kind_t).
enum class EventKind {
    flush = FLOWDB_EVENT_FLUSH,            ///< a memtable became tables_out tables of bytes bytes
    compaction = FLOWDB_EVENT_COMPACTION,  ///< a merge replaced tables_in tables by tables_out
    stall = FLOWDB_EVENT_STALL,            ///< a writer waited `duration` for a flush
    error = FLOWDB_EVENT_ERROR,            ///< background work failed (message; stops_writes)
    resumed = FLOWDB_EVENT_RESUMED,        ///< resume() cleared the background error
};

/// "flush", "compaction", "stall", "error", "resumed" (the Rust Event::kind names).
inline const char *to_string(EventKind k) noexcept {
    switch (k) {
    case EventKind::flush: return "flush";
    case EventKind::compaction: return "compaction";
    case EventKind::stall: return "stall";
    case EventKind::error: return "error";
    case EventKind::resumed: return "resumed";
    }
    return "unknown";
}

/// One event (a copy of flowdb_event_t); fields its kind does not use are 0 or empty.
struct Event {
    EventKind kind = EventKind::flush;
    std::chrono::microseconds duration{0};
    uint64_t tables_in = 0;
    uint64_t tables_out = 0;
    uint64_t bytes = 0;
    bool stops_writes = false;  ///< an error: it became the background error
    std::string message;        ///< an error: what failed
};

/// What Engine::set_event_listener and JsonDB::set_event_listener call with each event.
using EventListener = std::function<void(const Event &)>;

namespace detail {
// The listener an Engine or JsonDB owns, on the heap: its address is the C user data,
// so it must not move when the wrapper does. The library calls `call` on its event
// thread, and every set, removal, shutdown and free of the handle waits for the last
// call. An exception from f is caught and dropped there (none may unwind into C): the
// listener loses that event only, as a Rust listener that panics does.
struct Listener {
    EventListener f;
    static void call(const flowdb_event_t *ev, void *user) noexcept {
        try {
            Event e;
            e.kind = static_cast<EventKind>(ev->kind);
            e.duration = std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(ev->duration_us));
            e.tables_in = ev->tables_in;
            e.tables_out = ev->tables_out;
            e.bytes = ev->bytes;
            e.stops_writes = ev->stops_writes;
            if (ev->message) e.message = ev->message;
            static_cast<const Listener *>(user)->f(e);
        } catch (...) {
        }
    }
};
template <class H>
using SetListener = flowdb_status_t (*)(const H *, flowdb_event_fn, void *, flowdb_error_t **);
// Installs f (none when empty) as h's listener, owned by `slot`. When the call
// fails the old listener is kept (it may still be installed); when it succeeds the old
// one has had its last call (the C call waited for it) and is destroyed.
template <class H>
void set_listener(SetListener<H> set, const H *h, std::unique_ptr<Listener> &slot, EventListener f) {
    std::unique_ptr<Listener> next;
    if (f) next.reset(new Listener{std::move(f)});
    flowdb_error_t *err = nullptr;
    check(next ? set(h, &Listener::call, next.get(), &err) : set(h, nullptr, nullptr, &err), err);
    slot = std::move(next);
}
// For destructors: removes the listener before the handle is freed (waiting for its
// last call), ignoring errors (a handle already shut down has none).
template <class H>
void drop_listener(SetListener<H> set, const H *h, const std::unique_ptr<Listener> &slot) noexcept {
    if (slot && h) set(h, nullptr, nullptr, nullptr);
}
// A background error the library returned (NULL: none), copied and freed.
inline std::optional<Error> take_error(flowdb_error_t *e) {
    OwnedError owned(e);
    if (!e) return std::nullopt;
    return Error(flowdb_error_code(e), flowdb_error_message(e));
}
}  // namespace detail

}  // namespace flowdb

#endif  // FLOWDB_EVENTS_HPP
