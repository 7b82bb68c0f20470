// Kubernetes audit events (audit.k8s.io/v1 and v1beta1) read fast: only the
// fields detection rules use are decoded; request and response bodies are kept
// as raw JSON spans and parsed only when a rule needs a field inside them.
//
// An AuditEvent is a set of views into the input buffer (or into the parser's
// scratch, for strings with escapes); it is valid until the next parse call on
// the same EventParser. A parser reuses its buffers: no heap allocation per
// event once warm.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kg::audit {

struct ObjectRef {
  std::string_view api_group;  // "" = core
  std::string_view api_version;
  std::string_view resource;
  std::string_view subresource;
  std::string_view ns;
  std::string_view name;
};

struct AuditEvent {
  std::string_view api_version;  // audit.k8s.io/v1 (empty in EventList items)
  std::string_view level;
  std::string_view audit_id;
  std::string_view stage;
  std::string_view request_uri;
  std::string_view verb;
  std::string_view user_agent;
  std::string_view username;
  std::vector<std::string_view> groups;
  std::string_view impersonated_user;
  std::vector<std::string_view> source_ips;
  bool has_object_ref = false;
  ObjectRef object;
  int code = 0;  // responseStatus.code; 0 when absent
  std::string_view decision;  // annotations["authorization.k8s.io/decision"]
  std::string_view reason;    // annotations["authorization.k8s.io/reason"]
  std::string_view request_object;   // raw JSON, empty when absent
  std::string_view response_object;  // raw JSON, empty when absent
  std::string_view received;  // requestReceivedTimestamp (v1beta1: timestamp)
  std::string_view stage_time;
  std::int64_t time_us = 0;  // stageTimestamp (else requestReceivedTimestamp) in µs since the epoch; 0 unknown

  void clear();
};

// Microseconds since the epoch of an RFC 3339 time ("2026-12-05T04:01:02.123456Z",
// offsets allowed); -1 when malformed.
std::int64_t parse_time_us(std::string_view s);
// RFC 3339 UTC with microseconds for µs since the epoch.
std::string format_time_us(std::int64_t us);

// Where a value sits in its input, for error messages.
struct ParseError {
  std::size_t offset = 0;  // into the text handed to the parser
  std::string message;
};

class EventParser {
 public:
  using Sink = std::function<void(const AuditEvent&)>;

  // One JSON value: an Event, or an EventList whose items are each handed to
  // `sink`. Returns false with `error` when the value is malformed or not an
  // audit event; items of a list before a malformed one were delivered.
  bool parse_value(std::string_view json, const Sink& sink, ParseError& error);

  // The end of the JSON value starting at `text[0]` (after leading blanks):
  // npos when it does not end within `text`.
  static std::size_t value_end(std::string_view text);

 private:
  bool parse_event(const char*& p, const char* end, AuditEvent& ev, ParseError& error);
  std::string scratch_;
  AuditEvent event_;
  const char* base_ = nullptr;
};

// Splits a text (a file, a chunk of a stream) into JSON values: JSON lines,
// one value per line, and pretty-printed values (a line holding only "{"
// opens a value that runs until it closes). Calls `on_value(value, line)`
// for each, `on_error(line, message)` for text that is no JSON value
// (the rest is still read). Returns the number of bytes consumed: a trailing
// incomplete line is left for the caller when `final` is false.
std::size_t split_values(std::string_view text, std::uint64_t first_line, bool final,
                         const std::function<void(std::string_view, std::uint64_t)>& on_value,
                         const std::function<void(std::uint64_t, const std::string&)>& on_error,
                         std::uint64_t* lines_consumed = nullptr);

}  // namespace kg::audit
