// libFuzzer target: the recipient -> domain derivation behind destinations = "external".
// Whatever the bytes, a domain is only ever returned for a plain mailbox, and a recipient
// only counts as local when the address really ends in that local domain: no routing
// character (% ! @ in the local part, a source route, a quoted '@') and no byte outside a
// domain's alphabet can make an external recipient look local.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/classify.h"
#include "policy/facts.h"
#include "policy/recipient.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace floodgate::policy;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::optional<std::string> domain = RecipientDomain(in);
  if (domain) {
    Check(!domain->empty() && domain->front() != '.' && domain->back() != '.');
    for (unsigned char c : *domain) {
      Check(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.');
    }
    Check(in.size() <= kMaxRecipientLength);
    // The address ends in "@" + domain (before an optional '>'), and that '@' is the only
    // one outside a quoted local part.
    std::string_view v = in;
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (!v.empty() && v.back() == '>') v.remove_suffix(1);
    Check(v.size() > domain->size());
    Check(Lower(v.substr(v.size() - domain->size())) == *domain);
    Check(v[v.size() - domain->size() - 1] == '@');
    const std::string_view local = v.substr(0, v.size() - domain->size() - 1);
    const bool quoted = local.find('"') != std::string_view::npos;
    if (!quoted) Check(local.find_first_of("@%!:,") == std::string_view::npos);
  }
  TrafficConfig site;
  site.local_domains = {"example.org"};
  if (IsLocalRecipient(site, in)) Check(domain && *domain == "example.org");
  return 0;
}
