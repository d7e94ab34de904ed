// flowdb C++ quickstart: the time-series tour of the C quickstart, through flowdb.hpp.
// Usage: flowdb_quickstart_cpp [DATA_DIR]   (default ./data-cpp)
#include "flowdb.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    try {
        flowdb::Options opts;
        opts.data_dir(argc > 1 ? argv[1] : "./data-cpp");
        flowdb::Engine db = flowdb::Engine::open(opts);
        using namespace std::chrono;
        int64_t start = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() - 60'000'000;
        std::vector<flowdb::Record> batch;
        for (int h = 1; h <= 3; h++)
            for (int i = 0; i < 60; i++)
                batch.push_back({"cpu.host-" + std::to_string(h) + ".usage", start + i * 1'000'000LL, FLOWDB_NEVER_EXPIRES, std::to_string(40 + i % 7) + ".5"});
        db.write_batch(batch);
        if (auto r = db.get_latest("cpu.host-2.usage")) std::printf("latest %s at %lld: %s\n", r->key.c_str(), (long long)r->ts, r->value.c_str());
        std::printf("10-second window across all series: %zu records\n", db.query_time_range(start + 10'000'000, start + 19'000'000).size());
        size_t n = 0;
        for (const auto &v : db.scan(flowdb::Range::prefix("cpu.host-1."))) n += v.key.empty() ? 0 : 1;
        std::printf("scanned %zu points of cpu.host-1\n", n);
        db.flush();
        std::printf("stats: %llu records written, %llu tables\n", (unsigned long long)db.stats().total_records_written, (unsigned long long)db.stats().sstable_count);
        db.shutdown();
    } catch (const flowdb::Error &e) {
        std::fprintf(stderr, "flowdb error: %s\n", e.what());
        return 1;
    }
    return 0;
}
