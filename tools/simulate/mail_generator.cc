#include "tools/simulate/mail_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace floodgate::simulate {
namespace {

// Stream names (DeriveSeed's `a`): 3 in the top bits, the day below.
std::uint64_t DayStream(std::int64_t day) { return (3ULL << 32) | static_cast<std::uint64_t>(day); }

}  // namespace

MailGenerator::MailGenerator(const Workload& w, const std::vector<Account>& accounts,
                             std::vector<std::size_t> victims)
    : w_(w), accounts_(accounts), victims_(std::move(victims)) {
  std::size_t largest = 1;
  for (const Account& a : accounts_) largest = std::max(largest, a.pool.size());
  for (std::size_t n = 0; n <= largest; ++n) pool_choice_.emplace_back(n, w.population.domain_zipf);
}

policy::Address MailGenerator::AttackerAddress(std::size_t hijack, std::uint32_t network) {
  const std::uint64_t k = hijack * 1000 + network;
  policy::Address a;
  a.bytes[0] = 100;
  a.bytes[1] = static_cast<std::uint8_t>(64 + (k >> 8) % 64);
  a.bytes[2] = static_cast<std::uint8_t>(k);
  a.bytes[3] = 1;
  return a;
}

std::string MailGenerator::LegitRecipient(const Account& a, double new_domain_share,
                                          Rng& rng) const {
  const Population& p = w_.population;
  if (rng.Chance(p.local_share)) {
    return fmt::format("user{}@{}", rng.Below(static_cast<std::uint64_t>(p.accounts)), p.domain);
  }
  std::uint32_t domain = 0;
  if (a.pool.empty() || rng.Chance(new_domain_share)) {
    domain = static_cast<std::uint32_t>(rng.Below(static_cast<std::uint64_t>(p.global_domains)));
  } else {
    domain = a.pool[pool_choice_[a.pool.size()].Draw(rng)];
  }
  return fmt::format("r{}@{}", rng.Below(1000), GlobalDomain(domain));
}

void MailGenerator::Legit(std::int64_t day, std::uint32_t account,
                          std::vector<Message>* out) const {
  const Population& p = w_.population;
  const Account& a = accounts_[account];
  Rng rng(DeriveSeed(w_.seed, DayStream(day), account));
  const double sigma = p.day_variation;
  const double factor = sigma > 0 ? std::exp(sigma * rng.Normal() - sigma * sigma / 2) : 1.0;
  const std::int64_t n = rng.Poisson(a.usual_day * w_.rhythm.DayFactor(day) * factor);
  for (std::int64_t m = 0; m < n; ++m) {
    Message msg;
    msg.time = w_.rhythm.TimeInDay(day, rng);
    msg.account = account;
    const std::int64_t k = p.recipients.DrawCount(rng);
    for (std::int64_t r = 0; r < k; ++r) {
      msg.recipients.push_back(LegitRecipient(a, p.new_domain_share, rng));
    }
    out->push_back(std::move(msg));
  }
  if (IsWeekend(day)) return;
  for (const Burst& b : w_.bursts) {
    if (!rng.Chance(b.weekly_probability / 5)) continue;
    const SimTime start = w_.rhythm.TimeInDay(day, rng);
    for (std::int64_t m = 0; m < b.messages; ++m) {
      Message msg;
      msg.time =
          std::min(start + static_cast<Micros>(rng.Uniform() * static_cast<double>(b.within_us)),
                   (day + 1) * kDayUs - 1);
      msg.account = account;
      msg.origin = Origin::kBurst;
      for (std::int64_t r = 0; r < b.recipients; ++r) {
        msg.recipients.push_back(LegitRecipient(a, b.new_domain_share, rng));
      }
      out->push_back(std::move(msg));
    }
  }
}

void MailGenerator::Spam(std::int64_t day, std::size_t hijack, std::vector<Message>* out) const {
  const Hijack& h = w_.hijacks[hijack];
  const SimTime day_start = day * kDayUs, day_end = day_start + kDayUs;
  const SimTime end = std::min(h.start + h.duration_us, day_end);
  const double interval_us =
      static_cast<double>(h.recipients) / h.recipients_per_hour * static_cast<double>(kHourUs);
  if (end <= day_start || h.start >= end) return;
  auto i = static_cast<std::int64_t>(
      std::max(0.0, std::ceil(static_cast<double>(day_start - h.start) / interval_us)));
  for (;; ++i) {
    const SimTime t = h.start + static_cast<SimTime>(static_cast<double>(i) * interval_us);
    if (t >= end) break;
    if (t < day_start) continue;
    Message msg;
    msg.time = t;
    msg.account = static_cast<std::uint32_t>(victims_[hijack]);
    msg.origin = Origin::kSpam;
    msg.hijack = static_cast<std::int32_t>(hijack);
    msg.network = static_cast<std::uint32_t>(i % h.networks);
    for (std::int64_t r = 0; r < h.recipients; ++r) {
      const std::int64_t serial = i * h.recipients + r;
      msg.recipients.push_back(fmt::format("x{}@s{}.h{}.example.com", serial, serial, hijack));
    }
    out->push_back(std::move(msg));
  }
}

void MailGenerator::Day(std::int64_t day, std::vector<Message>* out) const {
  for (std::size_t a = 0; a < accounts_.size(); ++a) {
    Legit(day, static_cast<std::uint32_t>(a), out);
  }
  for (std::size_t h = 0; h < w_.hijacks.size(); ++h) Spam(day, h, out);
}

}  // namespace floodgate::simulate
