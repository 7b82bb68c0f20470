// libyaml_floor: the physical floor for kguard's scan benchmark.
//
// Reads every input file fully into memory first, then times ONLY libyaml's event parse
// (yaml_parser_parse until YAML_STREAM_END_EVENT, deleting each event) over the in-memory bytes,
// R times, and prints one JSON line:
//
//   {"files":F,"bytes":B,"reps":R,"documents":D,"events":E,"median_s":...,"min_s":...,
//    "max_s":...,"mb_per_s":...,"mib_per_s":...}
//
// mb_per_s is bytes / 10^6 / median_s.  Documents and events are counted so that the caller can
// check everything was parsed; they must be identical on every repetition.  A parse error is
// fatal: "FILE:LINE:COLUMN: problem (context)" on stderr and exit status 1.
//
// Usage: libyaml_floor [-r REPS] [--warmup N] PATH...
//   PATH is a file, or a directory searched recursively for *.yaml, *.yml and *.json (sorted).
//
// Build: g++ -O2 -std=c++20 libyaml_floor.cpp -lyaml   (or the `libyaml_floor` CMake target)

#include <yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Input {
    std::string path;
    std::string bytes;
};

struct Counts {
    std::uint64_t documents = 0;
    std::uint64_t events = 0;
};

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "libyaml_floor: %s\n", msg.c_str());
    std::exit(1);
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) die("cannot open " + p.string());
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) die("cannot read " + p.string());
    return s;
}

bool wanted_extension(const fs::path& p) {
    const std::string e = p.extension().string();
    return e == ".yaml" || e == ".yml" || e == ".json";
}

void collect(const std::string& arg, std::vector<fs::path>& out) {
    std::error_code ec;
    const fs::path p(arg);
    if (fs::is_directory(p, ec)) {
        std::vector<fs::path> found;
        for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it->is_regular_file() && wanted_extension(it->path())) found.push_back(it->path());
        }
        if (ec) die("cannot walk " + arg + ": " + ec.message());
        std::sort(found.begin(), found.end());
        out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
        out.push_back(p);
    } else {
        die("no such file or directory: " + arg);
    }
}

// Parses one in-memory buffer, adding to `c`.  Exits on a parse error.
void parse(const Input& in, Counts& c) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) die("yaml_parser_initialize failed (out of memory)");
    yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(in.bytes.data()),
                                 in.bytes.size());
    yaml_event_t event;
    for (;;) {
        if (!yaml_parser_parse(&parser, &event)) {
            const yaml_mark_t& m = parser.problem_mark;
            std::string msg = in.path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                              ": " + (parser.problem ? parser.problem : "parse error");
            if (parser.context) {
                msg += " (" + std::string(parser.context) + " at line " +
                       std::to_string(parser.context_mark.line + 1) + ")";
            }
            yaml_parser_delete(&parser);
            std::fprintf(stderr, "%s\n", msg.c_str());
            std::exit(1);
        }
        ++c.events;
        const yaml_event_type_t type = event.type;
        if (type == YAML_DOCUMENT_START_EVENT) ++c.documents;
        yaml_event_delete(&event);
        if (type == YAML_STREAM_END_EVENT) break;
    }
    yaml_parser_delete(&parser);
}

int parse_int(const char* flag, const char* v) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (!v[0] || *end || n < 0 || n > 1000000) die(std::string("bad value for ") + flag + ": " + v);
    return static_cast<int>(n);
}

}  // namespace

int main(int argc, char** argv) {
    int reps = 5;
    int warmup = 1;
    std::vector<fs::path> paths;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "-r" || a == "--reps") && i + 1 < argc) {
            reps = parse_int("-r", argv[++i]);
        } else if (a == "--warmup" && i + 1 < argc) {
            warmup = parse_int("--warmup", argv[++i]);
        } else if (a == "-h" || a == "--help") {
            std::printf("usage: libyaml_floor [-r REPS] [--warmup N] PATH...\n");
            return 0;
        } else if (!a.empty() && a[0] == '-' && a != "-") {
            die("unknown option " + a);
        } else {
            collect(a, paths);
        }
    }
    if (paths.empty()) die("no input files (usage: libyaml_floor [-r REPS] [--warmup N] PATH...)");
    if (reps < 1) die("-r must be at least 1");

    std::vector<Input> inputs;
    inputs.reserve(paths.size());
    std::uint64_t bytes = 0;
    for (const auto& p : paths) {
        inputs.push_back({p.string(), read_file(p)});
        bytes += inputs.back().bytes.size();
    }

    Counts expected;
    bool have_expected = false;
    auto run_once = [&]() {
        Counts c;
        for (const auto& in : inputs) parse(in, c);
        if (!have_expected) {
            expected = c;
            have_expected = true;
        } else if (c.events != expected.events || c.documents != expected.documents) {
            die("event or document count changed between repetitions");
        }
    };

    for (int i = 0; i < warmup; ++i) run_once();
    std::vector<double> secs;
    secs.reserve(reps);
    for (int i = 0; i < reps; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        run_once();
        const auto t1 = std::chrono::steady_clock::now();
        secs.push_back(std::chrono::duration<double>(t1 - t0).count());
    }
    std::sort(secs.begin(), secs.end());
    const double median = (reps % 2) ? secs[reps / 2] : (secs[reps / 2 - 1] + secs[reps / 2]) / 2.0;
    const double mb = static_cast<double>(bytes) / 1e6;
    const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::printf(
        "{\"files\":%zu,\"bytes\":%llu,\"reps\":%d,\"documents\":%llu,\"events\":%llu,"
        "\"median_s\":%.6f,\"min_s\":%.6f,\"max_s\":%.6f,\"mb_per_s\":%.2f,\"mib_per_s\":%.2f}\n",
        inputs.size(), static_cast<unsigned long long>(bytes), reps,
        static_cast<unsigned long long>(expected.documents), static_cast<unsigned long long>(expected.events),
        median, secs.front(), secs.back(), median > 0 ? mb / median : 0.0, median > 0 ? mib / median : 0.0);
    return 0;
}
