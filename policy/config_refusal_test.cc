// One test per refused config: each tests/config/bad_*.toml holds a config that is fine but
// for one line (marked "# refused"), and the error must name the file, that line and say
// what is wrong in words an admin recognises.
#include <gtest/gtest.h>

#include <string>

#include "policy/config_loader.h"

namespace floodgate::policy {
namespace {

void ExpectRefused(const std::string& file, int line, const std::string& phrase) {
  const std::string path = std::string(FLOODGATE_TEST_DATA) + "/" + file;
  Result<Config> c = LoadConfig(path);
  ASSERT_FALSE(c.ok()) << file << " was accepted";
  const std::string& m = c.error().message();
  EXPECT_EQ(c.error().kind(), ErrorKind::kInvalid) << m;
  EXPECT_EQ(m.rfind(path + ":" + std::to_string(line) + ": ", 0), 0u) << m;
  EXPECT_NE(m.find(phrase), std::string::npos) << m;
}

TEST(ConfigRefusalTest, RefusesUnknownTopLevelTable) {
  ExpectRefused("bad_unknown_top_level.toml", 7, "unknown key 'limits' in the top level");
}

TEST(ConfigRefusalTest, RefusesAFileThatIsNotUtf8) {
  ExpectRefused("bad_utf8_latin1.toml", 6, "not valid UTF-8 (byte 0xfc at column 32)");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInLimit) {
  ExpectRefused("bad_unknown_key_limit.toml", 6, "unknown key 'rat' in [[limit]]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInMilter) {
  ExpectRefused("bad_unknown_key_milter.toml", 3, "unknown key 'sock' in [milter]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInStore) {
  ExpectRefused("bad_unknown_key_store.toml", 4, "unknown key 'password' in [store]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInAlerts) {
  ExpectRefused("bad_unknown_key_alerts.toml", 3, "unknown key 'facility' in [alerts]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInOverride) {
  ExpectRefused("bad_unknown_key_override.toml", 11, "unknown key 'mode' in [[override]]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInExempt) {
  ExpectRefused("bad_unknown_key_exempt.toml", 3, "unknown key 'ips' in [exempt]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInMetrics) {
  ExpectRefused("bad_unknown_key_metrics.toml", 3, "unknown key 'port' in [metrics]");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInMaxNetworks) {
  ExpectRefused("bad_unknown_key_max_networks.toml", 6, "unknown key 'period' in max_networks");
}

TEST(ConfigRefusalTest, RefusesZeroRate) {
  ExpectRefused("bad_rate_zero.toml", 5, "amount must be an integer from 1");
}

TEST(ConfigRefusalTest, RefusesUnknownRateUnit) {
  ExpectRefused("bad_rate_unit.toml", 5, "unit s, m, h or d");
}

TEST(ConfigRefusalTest, RefusesNegativeRate) {
  ExpectRefused("bad_rate_negative.toml", 5, "amount must be an integer from 1");
}

TEST(ConfigRefusalTest, RefusesRateWithoutSlash) {
  ExpectRefused("bad_rate_garbage.toml", 5, "expected N/T");
}

TEST(ConfigRefusalTest, RefusesZeroPeriod) {
  ExpectRefused("bad_rate_zero_period.toml", 5, "period must be from 1s to 366d");
}

TEST(ConfigRefusalTest, RefusesHugeAmount) {
  ExpectRefused("bad_rate_amount_too_large.toml", 5,
                "amount must be an integer from 1 to 1000000000");
}

TEST(ConfigRefusalTest, RefusesPeriodOverAYear) {
  ExpectRefused("bad_rate_period_too_long.toml", 5, "period must be from 1s to 366d");
}

TEST(ConfigRefusalTest, RefusesDuplicatePeriod) {
  ExpectRefused("bad_rate_duplicate_period.toml", 7, "have the same period (1h)");
}

TEST(ConfigRefusalTest, RefusesRateAsPlainString) {
  ExpectRefused("bad_rate_type.toml", 5, "rate must be an array of strings");
}

TEST(ConfigRefusalTest, RefusesRateArrayOfNumbers) {
  ExpectRefused("bad_rate_element_type.toml", 5, "rate must be an array of strings");
}

TEST(ConfigRefusalTest, RefusesEmptyRate) {
  ExpectRefused("bad_rate_empty.toml", 5, "rate must not be empty");
}

TEST(ConfigRefusalTest, RefusesLimitWithoutRate) {
  ExpectRefused("bad_rate_missing.toml", 2, "[[limit]] needs 'rate'");
}

TEST(ConfigRefusalTest, RefusesBurstOfWrongLength) {
  ExpectRefused("bad_burst_length.toml", 6, "burst has 1 values but rate has 2");
}

TEST(ConfigRefusalTest, RefusesZeroBurst) {
  ExpectRefused("bad_burst_zero.toml", 6, "burst must be from 1 to");
}

TEST(ConfigRefusalTest, RefusesBurstString) {
  ExpectRefused("bad_burst_type.toml", 6, "burst must be an integer >= 1 or an array");
}

TEST(ConfigRefusalTest, RefusesLimitWithoutName) {
  ExpectRefused("bad_name_missing.toml", 2, "[[limit]] needs 'name'");
}

TEST(ConfigRefusalTest, RefusesBadLimitName) {
  ExpectRefused("bad_name_chars.toml", 3, "invalid limit name \"my limit\"");
}

TEST(ConfigRefusalTest, RefusesDuplicateLimitName) {
  ExpectRefused("bad_name_duplicate.toml", 8,
                "duplicate limit name \"submission\": also defined at line 2");
}

TEST(ConfigRefusalTest, RefusesLimitWithoutSubject) {
  ExpectRefused("bad_subject_missing.toml", 2, "[[limit]] needs 'subject'");
}

TEST(ConfigRefusalTest, RefusesUnknownSubject) {
  ExpectRefused(
      "bad_subject_unknown.toml", 4,
      "subject must be one of \"account\", \"ip\", \"sender\", \"sender_domain\" (got \"user\")");
}

TEST(ConfigRefusalTest, RefusesUnknownCount) {
  ExpectRefused("bad_count.toml", 6, "count must be one of \"messages\", \"recipients\"");
}

TEST(ConfigRefusalTest, RefusesUnknownAction) {
  ExpectRefused("bad_action.toml", 6,
                "action must be one of \"tempfail\", \"reject\", \"monitor\"");
}

TEST(ConfigRefusalTest, RefusesUnknownMode) {
  ExpectRefused("bad_mode.toml", 6, "mode must be one of \"leaky\", \"strict\"");
}

TEST(ConfigRefusalTest, RefusesReplyWithCrLf) {
  ExpectRefused("bad_reply_crlf.toml", 6, "no CR, LF");
}

TEST(ConfigRefusalTest, RefusesOverlongReply) {
  ExpectRefused("bad_reply_too_long.toml", 6, "reply must be 1 to 200 characters");
}

TEST(ConfigRefusalTest, RefusesEmptyReply) {
  ExpectRefused("bad_reply_empty.toml", 6, "reply must be 1 to 200 characters");
}

TEST(ConfigRefusalTest, RefusesPrefixOnNonIpLimit) {
  ExpectRefused("bad_prefix_not_ip.toml", 6, "ipv4_prefix only applies to subject = \"ip\"");
}

TEST(ConfigRefusalTest, RefusesIpv4PrefixOutOfRange) {
  ExpectRefused("bad_ipv4_prefix_range.toml", 6, "ipv4_prefix must be from 8 to 32");
}

TEST(ConfigRefusalTest, RefusesIpv6PrefixOutOfRange) {
  ExpectRefused("bad_ipv6_prefix_range.toml", 6, "ipv6_prefix must be from 16 to 128");
}

TEST(ConfigRefusalTest, RefusesLockAfterOne) {
  ExpectRefused("bad_lock_after.toml", 6, "lock_after must be from 2 to");
}

TEST(ConfigRefusalTest, RefusesMaxNetworksOnIpLimit) {
  ExpectRefused("bad_max_networks_subject.toml", 6,
                "max_networks only applies to subject = \"account\"");
}

TEST(ConfigRefusalTest, RefusesMaxNetworksZeroCount) {
  ExpectRefused("bad_max_networks_count.toml", 6, "max_networks count must be an integer from 1");
}

TEST(ConfigRefusalTest, RefusesMaxRecipientDomainsOnIpLimit) {
  ExpectRefused("bad_max_recipient_domains_subject.toml", 6,
                "max_recipient_domains only applies to subject = \"account\" or \"sender\"");
}

TEST(ConfigRefusalTest, RefusesMaxRecipientDomainsZeroCount) {
  ExpectRefused("bad_max_recipient_domains_count.toml", 6,
                "max_recipient_domains count must be an integer from 1 to 10000");
}

TEST(ConfigRefusalTest, RefusesMaxRecipientDomainsOnInboundLimit) {
  ExpectRefused("bad_max_recipient_domains_inbound.toml", 7,
                "max_recipient_domains is refused on an inbound limit");
}

TEST(ConfigRefusalTest, RefusesAnAdaptiveFactorBelowOne) {
  ExpectRefused("bad_adaptive_factor.toml", 6, "adaptive factor must be a number from 1 to 1000");
}

TEST(ConfigRefusalTest, RefusesAnAdaptiveFloorWithoutItsWindow) {
  ExpectRefused("bad_adaptive_floor_period.toml", 6,
                "adaptive floor \"200/1d\" has no window of the same period");
}

TEST(ConfigRefusalTest, RefusesAnAdaptiveFloorAboveItsRate) {
  ExpectRefused("bad_adaptive_floor_above_rate.toml", 6,
                "adaptive floor \"50/1m\" is above its window \"30/1m\"");
}

TEST(ConfigRefusalTest, RefusesAnAdaptiveLimitWithoutFloors) {
  ExpectRefused("bad_adaptive_missing_floor.toml", 6, "floor");
}

TEST(ConfigRefusalTest, RefusesAnUnknownAdaptiveKey) {
  ExpectRefused("bad_adaptive_unknown_key.toml", 6, "floors");
}

TEST(ConfigRefusalTest, RefusesMaxNetworksBadWindow) {
  ExpectRefused("bad_max_networks_window.toml", 6, "invalid window \"1x\"");
}

TEST(ConfigRefusalTest, RefusesMaxNetworksWithoutWindow) {
  ExpectRefused("bad_max_networks_missing_window.toml", 6, "max_networks needs 'window'");
}

TEST(ConfigRefusalTest, RefusesBadLockTtl) {
  ExpectRefused("bad_lock_ttl.toml", 7, "invalid lock_ttl \"forever\"");
}

TEST(ConfigRefusalTest, RefusesOverrideOfUnknownLimit) {
  ExpectRefused("bad_override_unknown_limit.toml", 9,
                "names limit \"submision\", which is not defined");
}

TEST(ConfigRefusalTest, RefusesOverrideOfOtherSubjectKind) {
  ExpectRefused("bad_override_kind_mismatch.toml", 9,
                "cannot apply to limit \"submission\", whose subject is \"account\"");
}

TEST(ConfigRefusalTest, RefusesDuplicateOverride) {
  ExpectRefused(
      "bad_override_duplicate.toml", 12,
      "duplicate override for account:bulk@example.org on limit \"submission\": also at line 7");
}

TEST(ConfigRefusalTest, RefusesIpOverride) {
  ExpectRefused("bad_override_subject.toml", 8, "invalid override subject \"ip:192.0.2.1\"");
}

TEST(ConfigRefusalTest, RefusesWildcardSenderDomainOverride) {
  ExpectRefused("bad_override_sender_domain_wildcard.toml", 8, "must be a domain (no wildcard)");
}

TEST(ConfigRefusalTest, RefusesOverrideWithBadRate) {
  ExpectRefused("bad_override_rate.toml", 10, "invalid rate '5000/0h'");
}

TEST(ConfigRefusalTest, RefusesOverrideWithoutLimit) {
  ExpectRefused("bad_override_missing_limit.toml", 7, "[[override]] needs 'limit'");
}

TEST(ConfigRefusalTest, RefusesBadExemptNetwork) {
  ExpectRefused("bad_exempt_network.toml", 5,
                "invalid network \"192.0.2.0/33\" in exempt.networks");
}

TEST(ConfigRefusalTest, RefusesExemptDomainWithAt) {
  ExpectRefused("bad_exempt_domain.toml", 3, "invalid domain \"@example.org\"");
}

TEST(ConfigRefusalTest, RefusesExemptAccountsNotStrings) {
  ExpectRefused("bad_exempt_accounts_type.toml", 3, "accounts must be an array of strings");
}

TEST(ConfigRefusalTest, RefusesBadMilterSocket) {
  ExpectRefused("bad_milter_socket.toml", 3, "invalid socket \"127.0.0.1:8899\"");
}

TEST(ConfigRefusalTest, RefusesUmaskOutOfRange) {
  ExpectRefused("bad_milter_umask.toml", 3, "umask must be an octal number from 0 to 0777");
}

TEST(ConfigRefusalTest, RefusesNonOctalUmaskString) {
  ExpectRefused("bad_milter_umask_string.toml", 3, "umask must be an octal number");
}

TEST(ConfigRefusalTest, RefusesZeroMilterTimeout) {
  ExpectRefused("bad_milter_timeout.toml", 3, "timeout must be from 1 to 3600");
}

TEST(ConfigRefusalTest, RefusesMilterTimeoutAsString) {
  ExpectRefused("bad_milter_timeout_type.toml", 3, "timeout must be an integer");
}

TEST(ConfigRefusalTest, RefusesMilterNotATable) {
  ExpectRefused("bad_milter_not_table.toml", 2, "[milter] must be a table");
}

TEST(ConfigRefusalTest, RefusesUnknownBackend) {
  ExpectRefused("bad_store_backend.toml", 3, "backend must be one of \"memory\", \"redis\"");
}

TEST(ConfigRefusalTest, RefusesRedissUrl) {
  ExpectRefused("bad_store_rediss.toml", 4, "TLS not supported");
}

TEST(ConfigRefusalTest, RefusesHttpStoreUrl) {
  ExpectRefused("bad_store_url.toml", 4, "redis url: unknown scheme 'http'");
}

// The url is parsed as the Redis store parses it when floodgate starts, so -n refuses
// what the start would.
TEST(ConfigRefusalTest, RefusesAStoreUrlWithABadPort) {
  ExpectRefused("bad_store_url_port.toml", 4, "bad port \"65536\" (1 to 65535)");
}

TEST(ConfigRefusalTest, RefusesAStoreUrlWithABadHost) {
  ExpectRefused("bad_store_url_host.toml", 4, "bad host name");
}

TEST(ConfigRefusalTest, RefusesAStoreUrlWithABadDb) {
  ExpectRefused("bad_store_url_db.toml", 4, "bad db \"O\"");
}

TEST(ConfigRefusalTest, RefusesAStoreUrlWithABadSentinelList) {
  ExpectRefused("bad_store_url_sentinels.toml", 4, "empty sentinel address");
}

TEST(ConfigRefusalTest, RefusesAStoreUrlWithABadSentinelPort) {
  ExpectRefused("bad_store_url_sentinel_port.toml", 4, "sentinel \"s2:2637x\": bad port");
}

TEST(ConfigRefusalTest, ABadStoreUrlIsRefusedWithoutShowingItsPassword) {
  const std::string path = std::string(FLOODGATE_TEST_DATA) + "/bad_store_url_port.toml";
  Result<Config> c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message().find("s3cret"), std::string::npos) << c.error().message();
}

TEST(ConfigRefusalTest, RefusesKeyPrefixWithBraces) {
  ExpectRefused("bad_store_key_prefix.toml", 3, "invalid key_prefix \"{fg}\"");
}

TEST(ConfigRefusalTest, RefusesRelativeAdminSocket) {
  ExpectRefused("bad_store_admin_socket.toml", 3, "invalid admin_socket \"run/admin.sock\"");
}

TEST(ConfigRefusalTest, RefusesRelativeStateDir) {
  ExpectRefused("bad_store_state_dir.toml", 3, "invalid state_dir \"var/lib/floodgate\"");
}

TEST(ConfigRefusalTest, RefusesTinyMaxSubjects) {
  ExpectRefused("bad_store_max_subjects.toml", 4, "max_subjects must be from 1000 to 1000000000");
}

TEST(ConfigRefusalTest, RefusesZeroStoreTimeout) {
  ExpectRefused("bad_store_timeout.toml", 3, "timeout_ms must be from 1 to 10000");
}

TEST(ConfigRefusalTest, RefusesUnknownOnError) {
  ExpectRefused("bad_store_on_error.toml", 3,
                "on_error must be one of \"local\", \"tempfail\", \"accept\"");
}

TEST(ConfigRefusalTest, RefusesUnknownSyslogFacility) {
  ExpectRefused("bad_alerts_facility.toml", 3, "invalid syslog_facility \"kern\"");
}

TEST(ConfigRefusalTest, RefusesRelativeAlertCommand) {
  ExpectRefused("bad_alerts_command.toml", 3, "must be an absolute path");
}

TEST(ConfigRefusalTest, RefusesAMailToThatIsNotAPlainAddress) {
  ExpectRefused("bad_alerts_mail_to.toml", 4,
                "invalid address \"Admin <admin@example.org>\" in alerts.mail_to");
}

TEST(ConfigRefusalTest, RefusesAMailFromWithALineBreak) {
  ExpectRefused("bad_alerts_mail_from.toml", 4, "in alerts.mail_from: write a plain address");
}

TEST(ConfigRefusalTest, RefusesAnUnknownMailEvent) {
  ExpectRefused("bad_alerts_mail_events.toml", 5, "unknown event \"lock\" in alerts.mail_events");
}

TEST(ConfigRefusalTest, RefusesARelativeSendmailPath) {
  ExpectRefused("bad_alerts_sendmail_path.toml", 4,
                "sendmail_path \"sendmail\" must be an absolute path");
}

TEST(ConfigRefusalTest, RefusesMetricsListenWithoutHost) {
  ExpectRefused("bad_metrics_listen.toml", 3, "invalid listen \"9187\"");
}

TEST(ConfigRefusalTest, RefusesSingleLimitTable) {
  ExpectRefused("bad_limit_not_array.toml", 2, "limit must be an array of tables: write [[limit]]");
}

TEST(ConfigRefusalTest, RefusesTomlSyntaxErrors) { ExpectRefused("bad_syntax.toml", 6, "[error]"); }

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(ConfigRefusalTest, RefusesUnknownTrafficClass) {
  ExpectRefused("bad_traffic_unknown.toml", 6, "unknown traffic class \"outbound\"");
}

TEST(ConfigRefusalTest, RefusesEmptyTraffic) {
  ExpectRefused("bad_traffic_empty.toml", 6, "traffic must name at least one");
}

TEST(ConfigRefusalTest, RefusesATrafficClassNamedTwice) {
  ExpectRefused("bad_traffic_duplicate.toml", 6, "traffic names \"relay\" twice");
}

TEST(ConfigRefusalTest, RefusesInboundMixedWithOutgoingClasses) {
  ExpectRefused("bad_traffic_inbound_mixed.toml", 6, "traffic = [\"inbound\"] must stand alone");
}

TEST(ConfigRefusalTest, RefusesLocksOnInboundLimits) {
  ExpectRefused("bad_traffic_inbound_lock_after.toml", 7,
                "lock_after is refused on an inbound limit");
}

TEST(ConfigRefusalTest, RefusesTrafficAnAccountLimitCannotSee) {
  ExpectRefused("bad_traffic_account_relay.toml", 6,
                "an account limit cannot count \"relay\" traffic: only submission mail has a SASL "
                "login");
}

TEST(ConfigRefusalTest, RefusesLocalTrafficOnIpLimits) {
  ExpectRefused("bad_traffic_ip_local.toml", 6, "local submissions (sendmail) have no client");
}

TEST(ConfigRefusalTest, RefusesUnknownDestinations) {
  ExpectRefused("bad_destinations_value.toml", 9,
                "destinations must be one of \"any\", \"external\" (got \"remote\")");
}

TEST(ConfigRefusalTest, RefusesExternalDestinationsWithoutLocalDomains) {
  ExpectRefused("bad_destinations_no_local_domains.toml", 6,
                "destinations = \"external\" needs [traffic] local_domains");
}

TEST(ConfigRefusalTest, RefusesABadTrustedNetwork) {
  ExpectRefused("bad_traffic_network.toml", 3,
                "invalid network \"192.0.2.0/33\" in traffic.trusted_networks");
}

TEST(ConfigRefusalTest, RefusesABadLocalDomain) {
  ExpectRefused("bad_traffic_local_domain.toml", 3,
                "invalid domain \"@example.net\" in traffic.local_domains");
}

TEST(ConfigRefusalTest, RefusesUnknownKeyInTraffic) {
  ExpectRefused("bad_unknown_key_traffic.toml", 3, "unknown key 'mynetworks' in [traffic]");
}

}  // namespace
}  // namespace floodgate::policy

namespace floodgate::policy {
namespace {

TEST(ConfigRefusalTest, RefusesHoldOnInboundLimits) {
  ExpectRefused("bad_hold_inbound.toml", 7, "action = \"hold\" is refused on an inbound limit");
}

TEST(ConfigRefusalTest, RefusesAHoldMaxBelowOne) {
  ExpectRefused("bad_hold_max.toml", 7, "hold_max");
}

TEST(ConfigRefusalTest, RefusesAnUnknownLockedAction) {
  ExpectRefused("bad_locked_action.toml", 7,
                "locked_action must be one of \"reject\", \"hold\" (got \"tempfail\")");
}

}  // namespace
}  // namespace floodgate::policy
