#include "engines/rbac/rbac.hpp"

namespace kg::rbac {

bool parse_access_question(std::string_view json, Identity& who, Request& request, std::string& error) {
  SourceFile src;
  src.path = "question";
  src.content = std::string(json);
  LoadLimits limits;
  limits.max_depth = 16;  // a question is flat: a deep one is not one
  load_documents(src, limits);
  const Node* root = src.documents.size() == 1 ? src.documents[0].root : nullptr;
  if (!src.errors.empty()) return error = src.errors.front().message, false;
  if (!root || !root->is_map()) return error = "not a JSON object", false;
  auto text = [&](const char* key, std::string& to) {
    const Node* n = get(root, key);
    if (!n || n->is_null()) return true;
    if (!n->is_scalar()) {
      error = std::string("\"") + key + "\" must be a string";
      return false;
    }
    to = std::string(n->text());
    return true;
  };
  if (!text("user", who.user) || !text("verb", request.verb) || !text("apiGroup", request.api_group) ||
      !text("resource", request.resource) || !text("subresource", request.subresource) ||
      !text("namespace", request.ns) || !text("name", request.name))
    return false;
  const Node* groups = get(root, "groups");
  if (groups && !groups->is_null() && !groups->is_seq()) return error = "\"groups\" must be a list", false;
  for (const Node* g : items(groups)) {
    if (!g->is_scalar()) return error = "\"groups\" must be a list of strings", false;
    who.groups.emplace_back(g->text());
  }
  if (const Node* p = get(root, "path"); p && !p->is_null()) {
    if (!p->is_scalar()) return error = "\"path\" must be a string or null", false;
    request.resource_request = false;
    request.path = std::string(p->text());
    request.ns.clear();  // a non-resource request has no namespace
  }
  return true;
}

}  // namespace kg::rbac
