// kguard audit detect|serve|rules (and policy, from audit_policy_command.cpp):
// threat detection on Kubernetes audit logs (docs/audit.md).
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <memory>

#include "catalog/catalog.hpp"
#include "catalog/messages_zh.hpp"
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "engines/audit/detector.hpp"
#include "engines/audit/webhook.hpp"
#include "report/model.hpp"
#include "report/renderers.hpp"
#include "report/terminal.hpp"
#include "server/server.hpp"

namespace kg::cli {

namespace {

using namespace kg::audit;

constexpr const char* kAuditHelp = R"(Usage: kguard audit COMMAND ...

Threat detection on Kubernetes audit logs (audit.k8s.io/v1 and v1beta1 Events,
JSON lines or EventList batches), with the rules under rules/audit (docs/audit.md).

Commands:
  detect [options] FILE...|-    read audit logs (files, or - for stdin; --follow tails one file)
  serve [options]               HTTPS endpoint for the API server's audit webhook backend
  rules [-o text|json]          list the detection rules, their templates and what they need logged
  policy ...                    check an audit Policy against the rules (kguard audit policy --help)

Run `kguard audit COMMAND --help` for a command's options.
)";

constexpr const char* kDetectHelp = R"(Usage: kguard audit detect [options] FILE...|-

Reads audit events from files (or - for stdin) and prints alerts. Alerts are
aggregated: one per rule and key (rule.yaml aggregateBy: user, verb, resource,
namespace by default) with a count, first and last time; the stages of one
request (auditID) raise one alert.

Options:
      --rules DIR              audit rules from DIR instead of the built-in ones
      --config FILE            kguard config: `rules: ID: {enabled, severity, params}`
                               overrides and `exemptions:` (rules, users, namespaces,
                               names, reason, until)
      --follow                 keep reading FILE as it grows; follows rotation (rename
                               or truncation); stop with SIGINT/SIGTERM
      --baseline FILE          audit log of a known-good window: who reads Secrets there
                               is expected (audit-baseline rules); repeatable
      --learn SECONDS          learn the baseline from the first SECONDS of the input
      --window DURATION        emit an alert DURATION after its first event (default: at
                               the end of the input; with --follow or stdin 10s)
      --repeat DURATION        then at most once per DURATION with the new count (default 1h)
      --alerts FILE            alerts as JSON lines to FILE (= -o alerts=FILE)
  -o, --output FORMAT[=FILE]   alerts (JSON lines, the default), or a report format:
                               text, json, sarif, markdown, html, junit, ... (repeatable)
      --lang en|zh             language of the report formats
      --quiet                  no summary on stderr

Exit: 0 no alerts, 1 alerts, 2 error (bad flags, rules or unreadable input; lines
that are no audit event are reported as FILE:LINE and the rest is read).
)";

constexpr const char* kServeHelp = R"(Usage: kguard audit serve --listen ADDR:PORT --tls-cert FILE --tls-key FILE [options]

HTTPS endpoint for the API server's audit webhook backend
(--audit-webhook-config-file): POST EventList batches to /audit (any path but
/healthz, /readyz and /metrics is accepted). Alerts go out as JSON lines.

Options:
      --listen ADDR:PORT       address (default 127.0.0.1:8444; port 0 = any)
      --tls-cert FILE, --tls-key FILE
                               serving certificate chain and key (PEM); reloaded on change
      --client-ca FILE         require a client certificate issued by these CAs (PEM
                               bundle; mutual TLS with the API server); reloaded on change
      --alerts FILE            alerts as JSON lines (default - = stdout); SIGHUP reopens it
      --rules DIR, --config FILE, --baseline FILE, --window DURATION, --repeat DURATION
                               as for detect (window default 10s)
      --workers N              event-loop threads (default 2)
      --max-body-bytes N       largest batch accepted (default 33554432; beyond: 413)
      --max-connections N, --max-body-bytes-in-flight N, --header-timeout DUR,
      --body-timeout DUR, --idle-timeout DUR, --drain-delay DUR, --drain-timeout DUR
                               server limits, as for kguard admit

/healthz, /readyz and /metrics (Prometheus: kguard_audit_events_total,
kguard_audit_alerts_total{rule,severity}, kguard_audit_parse_errors_total, ...).
SIGTERM drains and emits the alerts still aggregating.
)";

int usage(const std::string& cmd, const std::string& msg) {
  std::cerr << "kguard audit " << cmd << ": " << msg << "\nRun `kguard audit " << cmd << " --help` for usage.\n";
  return 2;
}

struct Common {
  std::string rules_dir;
  std::string config_file;
  std::vector<std::string> baselines;
  std::int64_t window_us = -1;
  std::int64_t repeat_us = 3'600'000'000;
};

// Consumes a flag shared by detect and serve: 1 consumed, 0 not one, -1 error.
int common_flag(const std::string& cmd, ArgCursor& flag, Common& c) {
  std::string v;
  auto duration = [&](std::int64_t& out, const char* name) {
    if (!flag.value(v)) return usage(cmd, std::string(name) + " needs a duration (10s, 5m)"), -1;
    const double ms = server::parse_duration_ms(v);
    if (ms < 0 || ms > 30.0 * 86400 * 1000) return usage(cmd, std::string(name) + " needs a duration (10s, 5m)"), -1;
    out = static_cast<std::int64_t>(ms * 1000);
    return 1;
  };
  if (flag.is("--rules")) {
    if (!flag.value(c.rules_dir)) return usage(cmd, "--rules needs a directory"), -1;
    return 1;
  }
  if (flag.is("--config")) {
    if (!flag.value(c.config_file)) return usage(cmd, "--config needs a file"), -1;
    return 1;
  }
  if (flag.is("--baseline")) {
    if (!flag.value(v)) return usage(cmd, "--baseline needs an audit log file"), -1;
    c.baselines.push_back(v);
    return 1;
  }
  if (flag.is("--window")) return duration(c.window_us, "--window");
  if (flag.is("--repeat")) return duration(c.repeat_us, "--repeat");
  return 0;
}

// Rules (built-in or --rules), the config's overrides and exemptions.
std::shared_ptr<RuleSet> load_rules(const std::string& cmd, const Common& c, DetectorOptions& options) {
  auto set = std::make_shared<RuleSet>();
  std::vector<InputError> errors;
  if (c.rules_dir.empty()) add_rules(*set, embedded_catalog_files(), errors);
  else add_rules_dir(*set, c.rules_dir, errors);
  if (!c.config_file.empty()) {
    auto cfg = load_config(c.config_file, errors);
    if (cfg) {
      for (const auto& [id, o] : cfg->rules) {
        bool found = false;
        for (auto& r : set->rules) {
          if (r->id == id) {
            found = true;
            apply_override(*r, o, errors);
          }
        }
        (void)found;  // overrides of object-catalog rules belong to kguard scan
      }
      options.exemptions = cfg->exemptions;
    }
  }
  for (const InputError& e : errors)
    std::cerr << "kguard audit " << cmd << ": " << terminal_safe(e.file) << (e.line ? ":" + std::to_string(e.line) : "")
              << ": " << terminal_safe(e.message) << '\n';
  if (!errors.empty()) return nullptr;
  const Catalog& catalog = Catalog::builtin();
  if (auto sec = catalog.categories().find("security"))
    for (auto& r : set->rules) r->category = *sec;
  options.today = utc_today();
  options.repeat_us = c.repeat_us;
  return set;
}

std::int64_t mono_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Feeds one input through the parser and detector, in chunks as they come.
class Feeder {
 public:
  Feeder(Detector& d, std::string name, bool clock) : d_(d), name_(std::move(name)), clock_(clock) {}

  // Appends bytes; processes the complete lines among them. A line longer than kMaxLine
  // (a value that never ends) is reported and skipped to the next newline, so memory is bounded.
  void add(std::string_view bytes) {
    if (skipping_) {
      const auto nl = bytes.find('\n');
      if (nl == std::string_view::npos) return;
      skipping_ = false;
      ++line_;
      bytes.remove_prefix(nl + 1);
    }
    buf_.append(bytes);
    run(false);
    if (buf_.size() > kMaxLine) {
      error(line_, "a JSON value longer than 64 MiB: skipped to the next line");
      const auto nl = buf_.find('\n');
      if (nl == std::string::npos) {
        skipping_ = true;
        buf_.clear();
      } else {
        buf_.erase(0, nl + 1);
        ++line_;
        run(false);
      }
    }
  }
  void finish() { run(true); }
  std::uint64_t errors() const { return errors_; }
  std::uint64_t bytes() const { return bytes_; }
  // After a rotation: the rest of the old file was read; start a new one.
  void restart(std::string name) {
    finish();
    name_ = std::move(name);
    line_ = 1;
  }

 private:
  void run(bool final) {
    std::uint64_t lines = 0;
    const std::size_t used = split_values(
        buf_, line_, final,
        [&](std::string_view v, std::uint64_t line) {
          ParseError e;
          const bool ok = parser_.parse_value(
              v, [&](const AuditEvent& ev) { d_.process(ev, clock_ ? mono_us() : 0, name_, line); }, e);
          if (!ok) {
            std::uint64_t at = line;
            for (std::size_t i = 0; i < e.offset && i < v.size(); ++i) at += v[i] == '\n';
            error(at, e.message);
          }
        },
        [&](std::uint64_t line, const std::string& m) { error(line, m); }, &lines);
    bytes_ += used;
    line_ += lines;
    buf_.erase(0, used);
    if (clock_) d_.tick(mono_us());  // streaming: groups whose window passed go out now
  }
  void error(std::uint64_t line, const std::string& m) {
    ++errors_;
    constexpr std::uint64_t kShown = 20;
    if (errors_ <= kShown)
      std::cerr << "kguard audit detect: " << terminal_safe(name_) << ":" << line << ": " << terminal_safe(m) << '\n';
    else if (errors_ == kShown + 1)
      std::cerr << "kguard audit detect: " << terminal_safe(name_) << ": more lines that are no audit event (counted)\n";
  }

  static constexpr std::size_t kMaxLine = std::size_t{64} << 20;
  Detector& d_;
  std::string name_;
  bool clock_;
  bool skipping_ = false;
  EventParser parser_;
  std::string buf_;
  std::uint64_t line_ = 1, errors_ = 0, bytes_ = 0;
};

// A signalfd for SIGINT/SIGTERM (blocked in this thread), or -1.
int stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// Reads `fd` until EOF into the feeder; false on a read error.
bool drain(int fd, Feeder& f) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      f.add(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) return true;
    if (errno == EINTR) continue;
    return false;
  }
}

// tail -F: reads the file to its end, then what is appended; when the path
// names another file (rotated by rename) or the file shrank (truncated), the
// old one is read to its end and the new one from its start.
int follow(const std::string& path, Detector& d, Feeder& feeder) {
  const int sfd = stop_signals();
  if (sfd < 0) {
    std::cerr << "kguard audit detect: cannot watch for SIGINT/SIGTERM\n";
    return 2;
  }
  int fd = -1;
  struct stat st {};
  auto open_path = [&] {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) != 0) {
      ::close(fd);
      fd = -1;
    }
  };
  open_path();
  if (fd < 0) {
    std::cerr << "kguard audit detect: cannot open " << terminal_safe(path) << ": " << std::strerror(errno) << '\n';
    ::close(sfd);
    return 2;
  }
  off_t offset = 0;
  for (;;) {
    char buf[1 << 16];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      offset += n;
      feeder.add(std::string_view(buf, static_cast<std::size_t>(n)));
      continue;
    }
    d.tick(mono_us());
    std::cout.flush();
    struct pollfd p {sfd, POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) break;  // SIGINT/SIGTERM
    struct stat now {};
    if (::stat(path.c_str(), &now) == 0) {
      if (now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        drain(fd, feeder);  // what was written before the rename
        ::close(fd);
        feeder.restart(path);
        open_path();
        offset = 0;
        if (fd < 0) {
          // Rotated away and not recreated yet: wait for it.
          while (fd < 0) {
            if (::poll(&p, 1, 200) > 0) {
              ::close(sfd);
              return 0;
            }
            open_path();
          }
        }
      } else if (now.st_size < offset) {
        ::lseek(fd, 0, SEEK_SET);  // truncated (copytruncate)
        feeder.restart(path);
        offset = 0;
      }
    }
  }
  if (fd >= 0) ::close(fd);
  ::close(sfd);
  return 0;
}

int detect(const std::vector<std::string>& args) {
  Common c;
  std::vector<OutputSpec> outputs;
  std::vector<std::string> inputs;
  bool follow_flag = false, quiet = false;
  std::int64_t learn_us = 0;
  Lang lang = Lang::En;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    const std::string& a = args[i];
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kDetectHelp;
      return 0;
    }
    const int common = common_flag("detect", flag, c);
    if (common < 0) return 2;
    if (common > 0) continue;
    if (flag.is("--follow")) {
      follow_flag = true;
    } else if (flag.is("--quiet", "-q")) {
      quiet = true;
    } else if (flag.is("--learn")) {
      long long s = 0;
      if (!flag.value(v) || !parse_int_in(v, 1, 30LL * 86400, s)) return usage("detect", "--learn needs a number of seconds");
      learn_us = s * 1'000'000;
    } else if (flag.is("--output", "-o")) {
      if (!flag.value(v) || v.empty()) return usage("detect", "-o needs a format");
      OutputSpec o = OutputSpec::parse(v);
      if (o.format != "alerts" && !find_renderer(o.format)) {
        std::string known = "alerts";
        for (const Renderer& r : renderers()) known += ", " + std::string(r.format);
        return usage("detect", "unknown output format '" + o.format + "' (" + known + ")");
      }
      outputs.push_back(o);
    } else if (flag.is("--alerts")) {
      if (!flag.value(v) || v.empty()) return usage("detect", "--alerts needs a file (or -)");
      outputs.push_back(OutputSpec{"alerts", v});
    } else if (flag.is("--lang")) {
      auto l = flag.value(v) ? parse_lang(v) : std::nullopt;
      if (!l) return usage("detect", "--lang must be en or zh");
      lang = *l;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage("detect", "unknown option '" + a + "'");
    } else {
      inputs.push_back(a);
    }
  }
  if (inputs.empty()) return usage("detect", "name audit log files, or - for stdin");
  if (follow_flag && (inputs.size() != 1 || inputs[0] == "-")) return usage("detect", "--follow reads exactly one file");
  if (!c.baselines.empty() && learn_us) return usage("detect", "--baseline and --learn exclude each other");
  if (outputs.empty()) outputs.push_back(OutputSpec{"alerts", ""});
  if (std::string clash = output_clash(outputs); !clash.empty()) return usage("detect", clash);

  DetectorOptions options;
  auto rules = load_rules("detect", c, options);
  if (!rules) return 2;
  const bool streaming = follow_flag || (inputs.size() == 1 && inputs[0] == "-");
  options.window_us = c.window_us >= 0 ? c.window_us : (streaming ? 10'000'000 : 0);
  options.learn_us = learn_us;

  // Outputs: the alerts stream is written as alerts come; the report formats at the end.
  std::vector<std::unique_ptr<std::ofstream>> files;
  std::ostream* alerts_out = nullptr;
  bool report = false;
  for (const OutputSpec& o : outputs) {
    if (o.format != "alerts") {
      report = true;
      continue;
    }
    if (o.to_stdout()) {
      alerts_out = &std::cout;
    } else {
      files.push_back(std::make_unique<std::ofstream>(o.file, std::ios::binary | std::ios::trunc));
      if (!*files.back()) {
        std::cerr << "kguard audit detect: cannot write " << terminal_safe(o.file) << '\n';
        return 2;
      }
      alerts_out = files.back().get();
    }
  }
  std::vector<Alert> kept;
  std::uint64_t alerts = 0;
  Detector d(rules, options, [&](Alert&& a) {
    if (!a.exempt) ++alerts;
    if (alerts_out && !a.exempt) {
      *alerts_out << alert_json(a) << '\n';
      if (streaming) alerts_out->flush();
    }
    if (report) kept.push_back(std::move(a));
  });
  for (const std::string& b : c.baselines) {
    std::string text;
    if (!read_file(b, text)) {
      std::cerr << "kguard audit detect: cannot read the baseline " << terminal_safe(b) << '\n';
      return 2;
    }
    EventParser p;
    std::uint64_t bad = 0;
    split_values(
        text, 1, true,
        [&](std::string_view val, std::uint64_t line) {
          ParseError e;
          if (!p.parse_value(val, [&](const AuditEvent& ev) { d.learn(ev); }, e) && ++bad <= 5)
            std::cerr << "kguard audit detect: " << terminal_safe(b) << ":" << line << ": " << terminal_safe(e.message) << '\n';
        },
        [&](std::uint64_t line, const std::string& m) {
          if (++bad <= 5) std::cerr << "kguard audit detect: " << terminal_safe(b) << ":" << line << ": " << m << '\n';
        });
  }
  std::uint64_t errors = 0, bytes = 0;
  bool fatal = false;
  for (const std::string& in : inputs) {
    Feeder feeder(d, in, options.window_us > 0);
    if (follow_flag) {
      if (follow(in, d, feeder) != 0) fatal = true;
    } else if (in == "-" && options.window_us > 0) {
      // A stream: alerts whose window passed go out even while stdin is quiet.
      char buf[1 << 16];
      for (;;) {
        struct pollfd p {STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&p, 1, 200);
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0) {
          const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
          if (n == 0) break;
          if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            std::cerr << "kguard audit detect: cannot read stdin\n";
            fatal = true;
            break;
          }
          feeder.add(std::string_view(buf, static_cast<std::size_t>(n)));
        }
        d.tick(mono_us());
        std::cout.flush();
      }
    } else if (in == "-") {
      if (!drain(STDIN_FILENO, feeder)) {
        std::cerr << "kguard audit detect: cannot read stdin\n";
        fatal = true;
      }
    } else {
      const int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        std::cerr << "kguard audit detect: cannot open " << terminal_safe(in) << ": " << std::strerror(errno) << '\n';
        fatal = true;
        continue;
      }
      if (!drain(fd, feeder)) {
        std::cerr << "kguard audit detect: cannot read " << terminal_safe(in) << '\n';
        fatal = true;
      }
      ::close(fd);
    }
    feeder.finish();
    errors += feeder.errors();
    bytes += feeder.bytes();
  }
  d.finish();
  for (const InputError& w : d.warnings())
    std::cerr << "kguard audit detect: " << terminal_safe(w.file) << ":" << w.line << ": " << terminal_safe(w.message) << '\n';
  if (!quiet) {
    std::cerr << "kguard audit detect: " << d.events() << " events, " << alerts << " alert" << (alerts == 1 ? "" : "s");
    if (errors) std::cerr << ", " << errors << " unreadable";
    std::cerr << '\n';
    for (const std::string& s : d.inactive())
      if (s.find("disabled") == std::string::npos) std::cerr << "kguard audit detect: not in force: " << s << '\n';
  }
  if (report) {
    EngineResult result;
    result.engine = "audit";
    result.inputs = inputs;
    result.policy = "Audit-log detection rules";
    result.messages_zh = &builtin_messages_zh();
    result.objects = d.events();
    result.documents = d.events();
    result.bytes = bytes;
    result.kinds["Event"] = d.events();
    result.facts.push_back({"events", std::to_string(d.events())});
    result.facts.push_back({"baseline", !c.baselines.empty() ? "file" : learn_us ? "learned" : "none"});
    const Category security = *Catalog::builtin().categories().find("security");
    add_to_result(d, kept, security, result);
    for (const InputError& w : d.warnings()) result.warnings.push_back(w);
    ReportModel model = build_report(result, utc_now_rfc3339(), lang);
    for (const OutputSpec& o : outputs) {
      if (o.format == "alerts") continue;
      std::ofstream file;
      if (!o.to_stdout()) {
        file.open(o.file, std::ios::binary | std::ios::trunc);
        if (!file) {
          std::cerr << "kguard audit detect: cannot write " << terminal_safe(o.file) << '\n';
          return 2;
        }
      }
      std::ostream& out = o.to_stdout() ? std::cout : file;
      RenderOptions ro;
      ro.color = o.to_stdout() && isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
      find_renderer(o.format)->render(model, ro, out);
      out.flush();
    }
  }
  std::cout.flush();
  if (fatal || errors) return 2;
  return alerts ? 1 : 0;
}

int serve(const std::vector<std::string>& args) {
  Common c;
  server::ServerOptions o;
  o.listen = "127.0.0.1:8444";
  // The webhook backend batches up to 400 events (--audit-webhook-batch-max-size), each up to the
  // API server's 3 MiB request limit at RequestResponse level: a batch can be far larger than one
  // admission review (Falco's default for the same: 12 MiB).
  o.limits.http.max_body = std::size_t{32} << 20;
  WebhookOptions w;
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    const std::string& a = args[i];
    std::string v;
    if (a == "-h" || a == "--help") {
      std::cout << kServeHelp;
      return 0;
    }
    const int common = common_flag("serve", flag, c);
    if (common < 0) return 2;
    if (common > 0) continue;
    auto duration = [&](int& out) {
      if (!flag.value(v)) return false;
      const double ms = server::parse_duration_ms(v);
      if (ms < 0 || ms > 24.0 * 3600 * 1000) return false;
      out = static_cast<int>(ms);
      return true;
    };
    auto number = [&](auto& out, long long hi) {
      long long n = 0;
      if (!flag.value(v) || !parse_int_in(v, 1, hi, n)) return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(n);
      return true;
    };
    if (flag.is("--listen")) {
      if (!flag.value(o.listen)) return usage("serve", "--listen needs ADDR:PORT");
    } else if (flag.is("--tls-cert")) {
      if (!flag.value(o.cert_file)) return usage("serve", "--tls-cert needs a file");
    } else if (flag.is("--tls-key")) {
      if (!flag.value(o.key_file)) return usage("serve", "--tls-key needs a file");
    } else if (flag.is("--client-ca")) {
      if (!flag.value(o.client_ca_file)) return usage("serve", "--client-ca needs a PEM bundle");
    } else if (flag.is("--alerts")) {
      if (!flag.value(w.alerts_file)) return usage("serve", "--alerts needs a file or -");
    } else if (flag.is("--workers")) {
      if (!number(o.workers, 64)) return usage("serve", "--workers needs a number from 1 to 64");
    } else if (flag.is("--max-connections")) {
      if (!number(o.limits.max_connections, 1'000'000)) return usage("serve", "--max-connections needs a positive number");
    } else if (flag.is("--max-body-bytes")) {
      if (!number(o.limits.http.max_body, 1LL << 32)) return usage("serve", "--max-body-bytes needs a positive number of bytes");
    } else if (flag.is("--max-body-bytes-in-flight")) {
      if (!number(o.limits.max_body_bytes_in_flight, 1LL << 40))
        return usage("serve", "--max-body-bytes-in-flight needs a positive number of bytes");
    } else if (flag.is("--header-timeout")) {
      if (!duration(o.limits.header_timeout_ms)) return usage("serve", "--header-timeout needs a duration");
    } else if (flag.is("--body-timeout")) {
      if (!duration(o.limits.body_timeout_ms)) return usage("serve", "--body-timeout needs a duration");
    } else if (flag.is("--idle-timeout")) {
      if (!duration(o.limits.idle_timeout_ms)) return usage("serve", "--idle-timeout needs a duration");
    } else if (flag.is("--drain-delay")) {
      if (!duration(o.drain_delay_ms)) return usage("serve", "--drain-delay needs a duration");
    } else if (flag.is("--drain-timeout")) {
      if (!duration(o.drain_timeout_ms)) return usage("serve", "--drain-timeout needs a duration");
    } else {
      return usage("serve", "unknown option '" + a + "'");
    }
  }
  if (o.cert_file.empty() || o.key_file.empty()) return usage("serve", "--tls-cert and --tls-key are required");
  DetectorOptions options;
  auto rules = load_rules("serve", c, options);
  if (!rules) return 2;
  options.window_us = c.window_us >= 0 ? c.window_us : 10'000'000;
  w.rules = rules;
  w.detector = options;
  w.baseline_files = c.baselines;
  if (!server::Server::block_signals()) return 2;
  AuditWebhookHandler handler(std::move(w));
  if (!handler.start()) return 2;
  o.describe = {{"serves", "POST /audit (audit webhook EventList)"},
                {"rules", std::to_string(rules->rules.size())}};
  server::Metrics metrics;
  server::Server server(std::move(o), handler, metrics);
  const int code = server.run();
  handler.finish();
  return code;
}

int list_rules(const std::vector<std::string>& args) {
  Common c;
  std::string format = "text";
  for (std::size_t i = 0; i < args.size(); ++i) {
    ArgCursor flag(args, i);
    std::string v;
    if (args[i] == "-h" || args[i] == "--help") {
      std::cout << "Usage: kguard audit rules [--rules DIR] [--config FILE] [-o text|json]\n\n"
                   "Lists the audit detection rules: id, severity, template, whether in force, the Falco\n"
                   "k8saudit rule each corresponds to, and `needs` (what the audit policy must log).\n";
      return 0;
    }
    const int common = common_flag("rules", flag, c);
    if (common < 0) return 2;
    if (common > 0) continue;
    if (flag.is("--output", "-o")) {
      if (!flag.value(format) || (format != "text" && format != "json")) return usage("rules", "-o must be text or json");
    } else {
      return usage("rules", "unknown argument '" + args[i] + "'");
    }
  }
  DetectorOptions options;
  auto rules = load_rules("rules", c, options);
  if (!rules) return 2;
  if (format == "text") {
    for (const auto& r : rules->rules) {
      std::string falco;
      for (const std::string& ref : r->references)
        if (ref.rfind("Falco k8saudit: ", 0) == 0) falco = ref.substr(16);
      std::cout << r->id << "  " << to_string(r->severity) << "  " << r->check << (r->enabled ? "" : "  (disabled)")
                << "\n    " << r->title << (falco.empty() ? "" : "\n    Falco: " + falco) << '\n';
    }
    std::cout << rules->rules.size() << " rules\n";
    return 0;
  }
  JsonWriter j(std::cout);
  j.begin_array();
  for (const auto& r : rules->rules) {
    j.begin_object();
    j.key("id").value(r->id);
    j.key("title").value(r->title);
    j.key("severity").value(to_string(r->severity));
    j.key("check").value(r->check);
    j.key("enabled").value(r->enabled);
    j.key("references").begin_array();
    for (const std::string& ref : r->references) j.value(ref);
    j.end_array();
    j.key("needs").begin_array();
    for (const Need& n : r->needs) {
      j.begin_object();
      auto list = [&](const char* k, const std::vector<std::string>& v) {
        if (v.empty()) return;
        j.key(k).begin_array();
        for (const std::string& s : v) j.value(s);
        j.end_array();
      };
      list("verbs", n.verbs);
      list("apiGroups", n.api_groups);
      list("resources", n.resources);
      list("subresources", n.subresources);
      list("namespaces", n.namespaces);
      list("nonResourceURLs", n.non_resource_urls);
      list("users", n.users);
      j.key("level").value(n.level);
      list("stages", n.stages);
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.flush();
  std::cout << '\n';
  return 0;
}

}  // namespace

int audit_command(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::cout << kAuditHelp;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "detect") return detect(rest);
  if (args[0] == "serve") return serve(rest);
  if (args[0] == "rules") return list_rules(rest);
  if (args[0] == "policy") return audit_policy_main(rest);
  std::cerr << "kguard audit: unknown command '" << args[0] << "'\n" << kAuditHelp;
  return 2;
}

}  // namespace kg::cli
