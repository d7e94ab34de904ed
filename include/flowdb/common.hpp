// flowdb/common.hpp: Error, Status and attempt(), the detail helpers every part
// uses (statuses, C strings, strings the library returned), Record and RecordView.
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_COMMON_HPP
#define FLOWDB_COMMON_HPP

#include "../flowdb.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowdb {

/// A failed call: its status code and message. what() is the message after the
/// code's name ("LOCKED: locked: ..."); message() is the message alone, as a Status
/// (a try_ form, attempt()) holds it.
class Error : public std::runtime_error {
public:
    Error(flowdb_status_t code, const std::string &message)
        : std::runtime_error(std::string(name(code)) + ": " + message), code_(code),
          prefix_(std::char_traits<char>::length(name(code)) + 2) {}
    flowdb_status_t code() const noexcept { return code_; }
    /// The message without the code's name (the end of what(), valid as long as it).
    const char *message() const noexcept { return std::runtime_error::what() + prefix_; }

private:
    static const char *name(flowdb_status_t code) noexcept { return flowdb_status_str(static_cast<int32_t>(code)); }
    flowdb_status_t code_;
    size_t prefix_;  // "<name>: " in what(): no string of its own, so copies cannot throw
};

/// The outcome of a non-throwing call.
struct Status {
    flowdb_status_t code = FLOWDB_OK;
    std::string message;
    bool ok() const noexcept { return code == FLOWDB_OK; }
    explicit operator bool() const noexcept { return ok(); }
};

namespace detail {
// Sets a Status's message without throwing: when the copy cannot be allocated the
// message stays empty (the code is kept).
inline void set_message(Status &s, const char *message) noexcept {
    try {
        s.message = message;
    } catch (...) {
    }
}
}  // namespace detail

/// Runs `f` (any flowdb calls) and reports a flowdb::Error as a Status instead of
/// throwing it: its code and message() (the message a try_ form gives).
template <class F>
Status attempt(F &&f) noexcept {
    Status s;
    try {
        f();
    } catch (const Error &e) {
        s.code = e.code();
        detail::set_message(s, e.message());
    } catch (const std::exception &e) {
        // Not flowdb's: the message kept (FLOWDB_INTERNAL: no code of ours fits).
        s.code = FLOWDB_INTERNAL;
        detail::set_message(s, e.what());
    } catch (...) {
        s.code = FLOWDB_INTERNAL;
        detail::set_message(s, "unexpected exception");
    }
    return s;
}

namespace detail {
// Frees what the library returned with F (a flowdb_*_free) as a unique_ptr's deleter.
// The unique_ptr takes it before anything is copied out of it, so that a copy that
// throws (std::bad_alloc) leaks nothing.
template <auto F>
struct Free {
    template <class T>
    void operator()(T *p) const noexcept { F(p); }
};
using OwnedError = std::unique_ptr<flowdb_error_t, Free<flowdb_error_free>>;
using OwnedString = std::unique_ptr<char, Free<flowdb_string_free>>;

// `err` is taken by reference: in `check(f(&err), err)` the argument order is
// unspecified, so a by-value `err` could be read before `f` sets it.
inline Status status(flowdb_status_t code, flowdb_error_t *&err) {
    OwnedError owned(std::exchange(err, nullptr));
    Status s;
    s.code = code;
    if (code != FLOWDB_OK) s.message = flowdb_error_message(owned.get());
    return s;
}
inline void check(flowdb_status_t code, flowdb_error_t *&err) {
    Status s = status(code, err);
    if (!s.ok()) throw Error(s.code, s.message);
}
// What a C callback calls (a visit's): f(args...), returning void (go on) or bool
// (false: stop). An exception from f stops the calls and is kept, to be rethrown once
// the C call has returned: none unwinds through the library.
template <class F>
struct Callee {
    F &f;
    std::exception_ptr thrown;
    template <class... A>
    bool operator()(A &&...a) noexcept {
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F &, A...>>) {
                f(std::forward<A>(a)...);
                return true;
            } else {
                return static_cast<bool>(f(std::forward<A>(a)...));
            }
        } catch (...) {
            thrown = std::current_exception();
            return false;
        }
    }
};
// Runs `c(user, &handed, &err)`, a C visit whose callback calls a Callee<F> at
// `user`; rethrows what f threw, else the call's error; returns how many calls f had.
template <class F, class C>
uint64_t calling(F &f, C &&c) {
    Callee<F> callee{f, nullptr};
    uint64_t handed = 0;
    flowdb_error_t *err = nullptr;
    Status s = status(c(static_cast<void *>(&callee), &handed, &err), err);
    if (callee.thrown) std::rethrow_exception(callee.thrown);
    if (!s.ok()) throw Error(s.code, s.message);
    return handed;
}
inline const uint8_t *bytes(std::string_view s) { return reinterpret_cast<const uint8_t *>(s.data()); }
// `s` as the NUL-terminated string C reads (a name, a path, a key path): one holding a
// NUL byte would be cut short there, so it throws FLOWDB_INVALID_ARGUMENT naming
// `what` (the parameter) instead.
inline const char *c_str(const std::string &s, const char *what) {
    if (s.find('\0') != std::string::npos) throw Error(FLOWDB_INVALID_ARGUMENT, std::string(what) + " holds a NUL byte");
    return s.c_str();
}
// The strings of `v` as C strings (each checked by c_str), for a `const char *const *`.
inline std::vector<const char *> c_strs(const std::vector<std::string> &v, const char *what) {
    std::vector<const char *> out;
    out.reserve(v.size());
    for (const auto &s : v) out.push_back(c_str(s, what));
    return out;
}
// A value read as a number (flowdb_record_as_f64): nullopt unless it is 8 bytes.
inline std::optional<double> as_f64(std::string_view value) noexcept {
    flowdb_record_view_t v{nullptr, 0, 0, 0, bytes(value), value.size()};
    double d = 0;
    if (flowdb_record_as_f64(&v, &d, nullptr) != FLOWDB_OK) return std::nullopt;
    return d;
}
}  // namespace detail

/// An owned record.
struct Record {
    std::string key;
    int64_t ts = 0;
    int64_t expire_at = FLOWDB_NEVER_EXPIRES;
    std::string value;
    /// The number a numeric point's record holds (its 8 bytes, little-endian, bit for
    /// bit); nullopt when the value is not 8 bytes. The mark of a point is not checked.
    std::optional<double> as_f64() const noexcept { return detail::as_f64(value); }
};

/// A borrowed record (from a RecordList or a Scan).
struct RecordView {
    std::string_view key;
    int64_t ts;
    int64_t expire_at;
    std::string_view value;
    Record to_record() const { return Record{std::string(key), ts, expire_at, std::string(value)}; }
    /// Record::as_f64 of the view.
    std::optional<double> as_f64() const noexcept { return detail::as_f64(value); }
};

inline RecordView view_of(const flowdb_record_view_t &v) {
    return RecordView{std::string_view(reinterpret_cast<const char *>(v.key), v.key_len), v.ts, v.expire_at,
                      std::string_view(reinterpret_cast<const char *>(v.value), v.value_len)};
}

namespace detail {
// Takes ownership of a string the library returned.
inline std::string take(char *s) {
    OwnedString owned(s);
    return s ? std::string(s) : std::string();
}
inline std::optional<std::string> take_optional(char *s) {
    if (!s) return std::nullopt;
    return take(s);
}
}  // namespace detail

}  // namespace flowdb

#endif  // FLOWDB_COMMON_HPP
