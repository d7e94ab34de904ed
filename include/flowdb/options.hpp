// flowdb/options.hpp: RollupRule and Options (what Engine::open and JsonDB::open
// take).
// Part of the C++ wrapper flowdb.hpp, which includes every part.
#ifndef FLOWDB_OPTIONS_HPP
#define FLOWDB_OPTIONS_HPP

#include "common.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flowdb {

enum class Agg : int32_t;

/// A downsampling rule (Options::rollup; docs/numeric.md, "Rollups"): every `step`
/// microseconds, the points of each series beginning with `prefix` (empty: all) are
/// folded by each function (count, sum, min, max, first, last) and kept as points
/// keyed "<function>:<raw key>" in <data dir>/rollups/<name>/, `keep_secs` seconds (0:
/// forever), rolled `delay` microseconds after each bucket's end (default one step).
/// Checked at open: a bad rule throws FLOWDB_INVALID_ARGUMENT naming it.
/// `RollupRule("1m", 60'000'000, {Agg::max}).with_prefix("cpu.").with_keep_secs(86400)`
/// (the with_ builders return a named rule by reference, a temporary by value).
struct RollupRule {
    RollupRule(std::string name_, int64_t step_, std::vector<Agg> functions_)
        : name(std::move(name_)), step(step_), functions(std::move(functions_)) {}
    RollupRule &with_prefix(std::string p) & { prefix = std::move(p); return *this; }
    RollupRule with_prefix(std::string p) && { return std::move(with_prefix(std::move(p))); }
    RollupRule &with_keep_secs(uint64_t secs) & { keep_secs = secs; return *this; }
    RollupRule with_keep_secs(uint64_t secs) && { return std::move(with_keep_secs(secs)); }
    RollupRule &with_delay(int64_t d) & { delay = d; return *this; }
    RollupRule with_delay(int64_t d) && { return std::move(with_delay(d)); }

    std::string name;
    int64_t step = 0;
    std::vector<Agg> functions;
    std::string prefix;
    uint64_t keep_secs = 0;
    std::optional<int64_t> delay;
};

/// Options for Engine::open (every Config field; defaults as in the C API). The
/// setters chain: on a named Options each returns a reference to it; on a temporary
/// it returns the Options itself (moved), so that `const auto &o =
/// Options().data_dir(d).auto_background(false);` owns what it names.
class Options {
public:
    Options() : p_(flowdb_options_new()) {}
    ~Options() { flowdb_options_free(p_); }
    Options(Options &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Options &operator=(Options &&o) noexcept { std::swap(p_, o.p_); return *this; }
    Options(const Options &) = delete;
    Options &operator=(const Options &) = delete;

    Options &data_dir(const std::string &dir) & { return set(flowdb_options_set_data_dir(p_, detail::c_str(dir, "data_dir"), &err_)); }
    Options data_dir(const std::string &dir) && { return std::move(data_dir(dir)); }
    Options &default_ttl_secs(std::optional<uint64_t> ttl) & { return set(flowdb_options_set_default_ttl_secs(p_, ttl.has_value(), ttl.value_or(0), &err_)); }
    Options default_ttl_secs(std::optional<uint64_t> ttl) && { return std::move(default_ttl_secs(ttl)); }
    Options &sync_always() & { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_ALWAYS, 0, &err_)); }
    Options sync_always() && { return std::move(sync_always()); }
    Options &sync_interval_ms(uint64_t ms) & { return set(flowdb_options_set_sync_mode(p_, FLOWDB_SYNC_INTERVAL, ms, &err_)); }
    Options sync_interval_ms(uint64_t ms) && { return std::move(sync_interval_ms(ms)); }
    Options &gc_interval_secs(uint64_t v) & { return set(flowdb_options_set_gc_interval_secs(p_, v, &err_)); }
    Options gc_interval_secs(uint64_t v) && { return std::move(gc_interval_secs(v)); }
    Options &memtable_size_mb(uint64_t v) & { return set(flowdb_options_set_memtable_size_mb(p_, v, &err_)); }
    Options memtable_size_mb(uint64_t v) && { return std::move(memtable_size_mb(v)); }
    Options &max_frozen_memtables(uint64_t v) & { return set(flowdb_options_set_max_frozen_memtables(p_, v, &err_)); }
    Options max_frozen_memtables(uint64_t v) && { return std::move(max_frozen_memtables(v)); }
    Options &block_size(uint64_t v) & { return set(flowdb_options_set_block_size(p_, v, &err_)); }
    Options block_size(uint64_t v) && { return std::move(block_size(v)); }
    Options &flush_interval_ms(uint64_t v) & { return set(flowdb_options_set_flush_interval_ms(p_, v, &err_)); }
    Options flush_interval_ms(uint64_t v) && { return std::move(flush_interval_ms(v)); }
    Options &time_bucket_secs(uint64_t v) & { return set(flowdb_options_set_time_bucket_secs(p_, v, &err_)); }
    Options time_bucket_secs(uint64_t v) && { return std::move(time_bucket_secs(v)); }
    Options &index_memory_budget_mb(uint64_t v) & { return set(flowdb_options_set_index_memory_budget_mb(p_, v, &err_)); }
    Options index_memory_budget_mb(uint64_t v) && { return std::move(index_memory_budget_mb(v)); }
    Options &block_cache_capacity_mb(uint64_t v) & { return set(flowdb_options_set_block_cache_capacity_mb(p_, v, &err_)); }
    Options block_cache_capacity_mb(uint64_t v) && { return std::move(block_cache_capacity_mb(v)); }
    Options &bloom_bits_per_key(uint64_t v) & { return set(flowdb_options_set_bloom_bits_per_key(p_, v, &err_)); }
    Options bloom_bits_per_key(uint64_t v) && { return std::move(bloom_bits_per_key(v)); }
    Options &wal_segment_size_mb(uint64_t v) & { return set(flowdb_options_set_wal_segment_size_mb(p_, v, &err_)); }
    Options wal_segment_size_mb(uint64_t v) && { return std::move(wal_segment_size_mb(v)); }
    Options &compaction_threshold(uint64_t v) & { return set(flowdb_options_set_compaction_threshold(p_, v, &err_)); }
    Options compaction_threshold(uint64_t v) && { return std::move(compaction_threshold(v)); }
    // Tuning beyond the configuration (Rust's Tuning), checked at open.
    Options &block_compression(flowdb_compression_t c) & { return set(flowdb_options_set_block_compression(p_, c, &err_)); }
    Options block_compression(flowdb_compression_t c) && { return std::move(block_compression(c)); }
    Options &zstd_level(int32_t v) & { return set(flowdb_options_set_zstd_level(p_, v, &err_)); }
    Options zstd_level(int32_t v) && { return std::move(zstd_level(v)); }
    Options &block_restart_interval(uint64_t v) & { return set(flowdb_options_set_block_restart_interval(p_, v, &err_)); }
    Options block_restart_interval(uint64_t v) && { return std::move(block_restart_interval(v)); }
    Options &index_partition_blocks(uint64_t v) & { return set(flowdb_options_set_index_partition_blocks(p_, v, &err_)); }
    Options index_partition_blocks(uint64_t v) && { return std::move(index_partition_blocks(v)); }
    Options &target_table_bytes(uint64_t v) & { return set(flowdb_options_set_target_table_bytes(p_, v, &err_)); }
    Options target_table_bytes(uint64_t v) && { return std::move(target_table_bytes(v)); }
    /// Charge the memtables' memory to the block cache (default false): while they
    /// hold M bytes the cache holds at most its capacity less M (never less than an
    /// eighth), as RocksDB's WriteBufferManager with cost_to_cache.
    Options &memtables_in_block_cache(bool on) & { return set(flowdb_options_set_memtables_in_block_cache(p_, on, &err_)); }
    Options memtables_in_block_cache(bool on) && { return std::move(memtables_in_block_cache(on)); }
    /// Retention by age: records with a ts more than `secs` seconds before now are
    /// deleted by maintenance (or Engine::enforce_retention). 0: no limit (the default).
    Options &retention_max_age_secs(uint64_t secs) & { return set(flowdb_options_set_retention_max_age_secs(p_, secs, &err_)); }
    Options retention_max_age_secs(uint64_t secs) && { return std::move(retention_max_age_secs(secs)); }
    /// Retention by size: past `bytes` of tables, the oldest data is deleted until they
    /// fit. 0: no limit (the default).
    Options &retention_max_bytes(uint64_t bytes) & { return set(flowdb_options_set_retention_max_bytes(p_, bytes, &err_)); }
    Options retention_max_bytes(uint64_t bytes) && { return std::move(retention_max_bytes(bytes)); }
    /// A constant label on every metrics sample (`name="value"`), to tell several
    /// databases in one process apart; the name is checked at open (see
    /// flowdb_options_add_metrics_label). Labels accumulate until clear_metrics_labels().
    Options &metrics_label(const std::string &name, const std::string &value) & {
        return set(flowdb_options_add_metrics_label(p_, detail::c_str(name, "name"), detail::c_str(value, "value"), &err_));
    }
    Options metrics_label(const std::string &name, const std::string &value) && { return std::move(metrics_label(name, value)); }
    Options &clear_metrics_labels() & { return set(flowdb_options_clear_metrics_labels(p_, &err_)); }
    Options clear_metrics_labels() && { return std::move(clear_metrics_labels()); }
    /// Adds a downsampling rule (see RollupRule); rules accumulate until clear_rollups().
    Options &rollup(const RollupRule &r) & {
        std::vector<int32_t> fs;
        for (Agg a : r.functions) fs.push_back(static_cast<int32_t>(a));
        flowdb_rollup_rule_t c{detail::c_str(r.name, "name"), detail::bytes(r.prefix), r.prefix.size(), r.step,
                               fs.data(), fs.size(), r.keep_secs, r.delay.value_or(-1)};
        return set(flowdb_options_add_rollup(p_, &c, &err_));
    }
    Options rollup(const RollupRule &r) && { return std::move(rollup(r)); }
    Options &clear_rollups() & { return set(flowdb_options_clear_rollups(p_, &err_)); }
    Options clear_rollups() && { return std::move(clear_rollups()); }
    Options &create_if_missing(bool v) & { return set(flowdb_options_set_create_if_missing(p_, v, &err_)); }
    Options create_if_missing(bool v) && { return std::move(create_if_missing(v)); }
    Options &auto_background(bool v) & { return set(flowdb_options_set_auto_background(p_, v, &err_)); }
    Options auto_background(bool v) && { return std::move(auto_background(v)); }

    const flowdb_options_t *get() const noexcept { return p_; }

private:
    Options &set(flowdb_status_t s) {
        detail::check(s, err_);
        return *this;
    }
    flowdb_options_t *p_;
    flowdb_error_t *err_ = nullptr;
};

}  // namespace flowdb

#endif  // FLOWDB_OPTIONS_HPP
