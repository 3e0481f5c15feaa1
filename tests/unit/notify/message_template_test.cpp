// Message templates (src/notify/message_template*.cpp): every default renders, names are checked
// when a template is saved (unknown names, alert fields outside the alerts, partials, custom
// delimiters), HTML is escaped in html and not in text, an SMS stays within 160 bytes with its
// ack link whole, a grouped message lists at most max_alerts, and hostile values stay text.
#include "notify/detail/message_template.hpp"

#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

using namespace netpulse;
using namespace netpulse::notify::detail;

namespace {

constexpr std::int64_t kStarted = 1'774'746'300'000;  // 2026-03-29T01:05:00Z, 03:05 CEST

MessageAlert alert(std::string rule, std::string device, double value) {
  MessageAlert a;
  a.id = 1;
  a.rule_name = std::move(rule);
  a.device_name = std::move(device);
  a.device_id = 7;
  a.status = "firing";
  a.severity = "critical";
  a.value = value;
  a.threshold = 90;
  a.started_at = kStarted;
  a.labels = {{"ifName", "xe-0/0/1"}};
  a.url = "https://netpulse.isp.example/alerts/1";
  return a;
}

Message message(std::size_t alerts) {
  Message m;
  m.kind = MessageKind::kFiring;
  m.severity = "critical";
  m.receiver = "Core network";
  m.ack_url = "https://netpulse.isp.example/ack/5f2c9a";
  m.external_url = "https://netpulse.isp.example";
  for (std::size_t i = 0; i < alerts; ++i)
    m.alerts.push_back(alert("CPU high", "core-" + std::to_string(i + 1), 92.5));
  return m;
}

std::string render(const std::string& text, const Message& m, RenderOptions options = {}) {
  auto t = MessageTemplate::parse(text, "t");
  if (!t) FAIL(t.error().message);
  return t->render(m, options);
}

std::string refused_field(const std::string& text) {
  auto t = MessageTemplate::parse(text, "templates.email.title");
  REQUIRE_FALSE(t);
  CHECK(t.error().code == core::Errc::kInvalidInput);
  CHECK(t.error().details.at("field").as_string() == "templates.email.title");
  return t.error().message;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("message templates: the fields render, numbers as people read them",
          "[notify][template]") {
  auto m = message(1);
  m.alerts[0].annotations["summary"] = "CPU at 92.5 %";
  RenderOptions berlin;
  berlin.time_zone = "Europe/Berlin";
  CHECK(render("{{severity_short}} {{kind}} {{count}} {{receiver}}", m) ==
        "CRIT firing 1 Core network");
  CHECK(render("{{#alerts}}{{rule}}|{{device}}|{{value}}|{{threshold}}|{{status}}|{{summary}}|"
               "{{labels.ifName}}|{{started}}{{/alerts}}",
               m, berlin) ==
        "CPU high|core-1|92.5|90|firing|CPU at 92.5 %|xe-0/0/1|2026-03-29 03:05 CEST");
  CHECK(render("{{#first}}{{started}}{{/first}}", m) == "2026-03-29 01:05 UTC");
  CHECK(render("{{#first}}{{labels.vlan}}{{^labels.vlan}}no vlan{{/labels.vlan}}{{/first}}", m) ==
        "no vlan");
  m.alerts[0].value = 0.004;
  m.alerts[0].threshold.reset();
  CHECK(render("{{#first}}{{value}}{{#threshold}} of {{threshold}}{{/threshold}}{{/first}}", m) ==
        "0.004");
  // A topology root: the alert with the largest impact.
  m.alerts[0].impact = 55;
  CHECK(render("{{#root}}{{root}} down, {{impact}} behind it{{/root}}", m) ==
        "core-1 down, 55 behind it");
}

TEST_CASE("message templates: an unknown name is refused when saved, naming it",
          "[notify][template]") {
  auto why = refused_field("{{#alerts}}{{devcie}}{{/alerts}}");
  CHECK(contains(why, "{{devcie}}"));
  CHECK(contains(why, "device"));  // the known names are listed
  CHECK(contains(why, "labels.<name>"));
  CHECK(contains(refused_field("{{device}}"), "inside {{#alerts}}"));  // an alert's field outside
  refused_field("{{^alerts}}{{rule}}{{/alerts}}");  // an inverted section is not an alert
  refused_field("{{#alerts}}{{labels.if-name}}{{/alerts}}");
  refused_field("{{#alerts}}{{#alerts}}x{{/alerts}}{{/alerts}}");  // no nesting
  refused_field("{{.}}");
  CHECK(contains(refused_field("{{> header}}"), "partials"));
  CHECK(contains(refused_field("{{#alerts}}unclosed"), "Mustache"));
  refused_field("{{/alerts}}");
  refused_field("{{rule");
  // Custom delimiters are followed: the name is still checked.
  refused_field("{{=<% %>=}}<%#alerts%><%devcie%><%/alerts%>");
  CHECK(render("{{=<% %>=}}<%#alerts%><%device%><%/alerts%>", message(1)) == "core-1");
  refused_field(std::string(MessageTemplate::kMaxBytes + 1, 'x'));
  std::string deep;
  for (int i = 0; i < 17; ++i) deep += "{{#severity}}";
  for (int i = 0; i < 17; ++i) deep += "{{/severity}}";
  refused_field(deep);
  // Comments and group/common labels are fine.
  CHECK(render("{{! note }}{{common_labels.site}}{{group_labels.alertname}}", message(1)) == "");
}

TEST_CASE("message templates: HTML is escaped in html, not in text", "[notify][template]") {
  auto m = message(1);
  m.alerts[0].device_name = "<b>core&1</b>";
  m.alerts[0].annotations["runbook_url"] = "javascript:alert(1)";
  RenderOptions html;
  html.escape_html = true;
  CHECK(render("{{#first}}{{device}}{{/first}}", m, html) == "&lt;b&gt;core&amp;1&lt;/b&gt;");
  CHECK(render("{{#first}}{{device}}{{/first}}", m) == "<b>core&1</b>");
  CHECK(render("{{#first}}{{{device}}}{{/first}}", m, html) == "<b>core&1</b>");
  // Only http(s) links reach a template.
  CHECK(render("{{#first}}[{{runbook_url}}]{{/first}}", m, html) == "[]");
  const auto set = default_templates(ChannelFamily::kEmail);
  render_into(m, set, ChannelFamily::kEmail, {});
  CHECK(contains(m.html, "&lt;b&gt;core&amp;1&lt;/b&gt;"));
  CHECK_FALSE(contains(m.html, "<b>core"));
  CHECK(contains(m.text, "<b>core&1</b>"));
  CHECK(contains(m.title, "<b>core&1</b>"));
}

TEST_CASE("message templates: parsed once, a copy renders the same, from any thread",
          "[notify][template]") {
  auto t = MessageTemplate::parse("{{#first}}{{device}} at {{value}}{{/first}} ({{count}})", "t");
  REQUIRE(t);
  const MessageTemplate copy = *t;  // shares the parsed form
  auto m = message(1);
  m.alerts[0].device_name = "core-<1>";
  RenderOptions html;
  html.escape_html = true;
  const std::string plain = t->render(m, {});
  CHECK(plain == "core-<1> at 92.5 (1)");
  // One parsed form serves both escapings, whichever comes first.
  CHECK(copy.render(m, html) == "core-&lt;1&gt; at 92.5 (1)");
  CHECK(copy.render(m, {}) == plain);
  // Renders of one template from two threads at once take turns (the library's renderer is
  // not re-entrant): every result whole.
  std::vector<std::string> a(200), b(200);
  std::thread other([&] {
    for (auto& s : b) s = copy.render(m, html);
  });
  for (auto& s : a) s = t->render(m, {});
  other.join();
  for (auto& s : a) CHECK(s == plain);
  for (auto& s : b) CHECK(s == "core-&lt;1&gt; at 92.5 (1)");
  // The empty template renders "".
  CHECK(MessageTemplate().render(m, {}).empty());
}

TEST_CASE("message templates: every default renders and reads well", "[notify][template]") {
  for (auto family :
       {ChannelFamily::kEmail, ChannelFamily::kChat, ChannelFamily::kSms, ChannelFamily::kPaging}) {
    const auto set = default_templates(family);
    CHECK_FALSE(set.title.text().empty());
    CHECK((family == ChannelFamily::kSms) == set.text.text().empty());
    CHECK((family == ChannelFamily::kEmail) == !set.html.text().empty());
  }
  auto m = message(1);
  render_into(m, default_templates(ChannelFamily::kEmail), ChannelFamily::kEmail, {});
  CHECK(m.title == "[CRIT] CPU high on core-1");
  CHECK(contains(m.text, "1 alert firing (Core network):"));
  CHECK(contains(m.text, "* [CRIT] CPU high on core-1: value 92.5 (threshold 90)"));
  CHECK(contains(m.text, "Acknowledge: https://netpulse.isp.example/ack/5f2c9a"));
  CHECK(contains(m.html, "<a href=\"https://netpulse.isp.example/alerts/1\">open</a>"));

  auto root = message(3);
  root.alerts[0].impact = 55;
  render_into(root, default_templates(ChannelFamily::kSms), ChannelFamily::kSms, {});
  CHECK(root.title ==
        "CRIT core-1 down, 55 behind it. Ack: https://netpulse.isp.example/ack/5f2c9a");
  render_into(root, default_templates(ChannelFamily::kChat), ChannelFamily::kChat, {});
  CHECK(root.title == "CRIT: core-1 down — 55 devices behind it unreachable");
  render_into(root, default_templates(ChannelFamily::kPaging), ChannelFamily::kPaging, {});
  CHECK(root.title == "CRIT: core-1 down — 55 devices behind it unreachable");

  auto resolved = message(2);
  resolved.kind = MessageKind::kResolved;
  render_into(resolved, default_templates(ChannelFamily::kEmail), ChannelFamily::kEmail, {});
  CHECK(resolved.title == "[CRIT] RESOLVED 2 alerts resolved: CPU high on core-1");
  render_into(resolved, default_templates(ChannelFamily::kSms), ChannelFamily::kSms, {});
  CHECK(resolved.title ==
        "CRIT OK core-1 CPU high (2 alerts). Ack: https://netpulse.isp.example/ack/5f2c9a");
}

TEST_CASE("message templates: an acknowledgement does not read like a new page",
          "[notify][template]") {
  auto acked = message(1);
  acked.kind = MessageKind::kAcknowledged;
  acked.ack_url.clear();
  acked.alerts[0].status = "acknowledged";
  acked.alerts[0].acknowledged_by = "Ana";
  render_into(acked, default_templates(ChannelFamily::kChat), ChannelFamily::kChat, {});
  CHECK(acked.title == "CRIT ACK: CPU high on core-1");
  CHECK(contains(acked.text, ", acknowledged by Ana"));
  render_into(acked, default_templates(ChannelFamily::kEmail), ChannelFamily::kEmail, {});
  CHECK(acked.title == "[CRIT] ACK CPU high on core-1");
  render_into(acked, default_templates(ChannelFamily::kSms), ChannelFamily::kSms, {});
  CHECK(acked.title == "CRIT ACK core-1 CPU high 92.5 by Ana.");
  render_into(acked, default_templates(ChannelFamily::kPaging), ChannelFamily::kPaging, {});
  CHECK(acked.title == "CRIT ACK: CPU high on core-1");
  // A firing message says neither.
  auto firing = message(1);
  render_into(firing, default_templates(ChannelFamily::kChat), ChannelFamily::kChat, {});
  CHECK(firing.title == "CRIT: CPU high on core-1");
  CHECK_FALSE(contains(firing.text, "acknowledged"));
}

TEST_CASE("message templates: a grouped message lists max_alerts, then and N more",
          "[notify][template]") {
  auto m = message(15);
  RenderOptions three;
  three.max_alerts = 3;
  render_into(m, default_templates(ChannelFamily::kEmail), ChannelFamily::kEmail, three);
  CHECK(m.title == "[CRIT] 15 alerts firing: CPU high on core-1");
  CHECK(contains(m.text, "core-3"));
  CHECK_FALSE(contains(m.text, "core-4"));
  CHECK(contains(m.text, "... and 12 more."));
  CHECK(contains(m.html, "... and 12 more."));
  render_into(m, default_templates(ChannelFamily::kChat), ChannelFamily::kChat, three);
  CHECK(contains(m.text, "… and 12 more"));
  CHECK(render("{{count}}/{{#more}}{{more}}{{/more}}{{^more}}none{{/more}}", message(2)) ==
        "2/none");
}

TEST_CASE("message templates: an SMS fits in 160 bytes with its ack link whole",
          "[notify][template]") {
  auto m = message(1);
  m.alerts[0].device_name = std::string(300, 'd');
  render_into(m, default_templates(ChannelFamily::kSms), ChannelFamily::kSms, {});
  CHECK(m.title.size() <= kMaxSmsBytes);
  CHECK(m.title.ends_with("... https://netpulse.isp.example/ack/5f2c9a"));
  // Without an ack link the text is cut; never inside a UTF-8 sequence.
  m.ack_url.clear();
  m.alerts[0].device_name.clear();
  for (int i = 0; i < 100; ++i) m.alerts[0].device_name += "é";
  render_into(m, default_templates(ChannelFamily::kSms), ChannelFamily::kSms, {});
  CHECK(m.title.size() <= kMaxSmsBytes);
  CHECK(m.title.ends_with("é..."));
}

TEST_CASE("message templates: hostile values stay text", "[notify][template]") {
  auto m = message(1);
  m.alerts[0].device_name = "core-1\r\nBcc: victim@example.org";
  m.alerts[0].labels["ifName"] = "{{ack_url}}{{#alerts}}";
  m.alerts[0].rule_name = "{{> partial}}";
  render_into(m, default_templates(ChannelFamily::kEmail), ChannelFamily::kEmail, {});
  CHECK(m.title == "[CRIT] {{> partial}} on core-1 Bcc: victim@example.org");  // one line
  CHECK(render("{{#first}}{{labels.ifName}}{{/first}}", m) == "{{ack_url}}{{#alerts}}");
  // A title of 255 bytes at most.
  m.alerts[0].device_name = std::string(1'000, 'x');
  render_into(m, default_templates(ChannelFamily::kChat), ChannelFamily::kChat, {});
  CHECK(m.title.size() <= 255);
  // An unknown time zone falls back to UTC.
  RenderOptions mars;
  mars.time_zone = "Mars/Base";
  CHECK(render("{{#first}}{{started}}{{/first}}", message(1), mars) == "2026-03-29 01:05 UTC");
}

TEST_CASE("message templates: a policy's own set, by severity over its default over the built-in",
          "[notify][template]") {
  const notify::PolicyTemplates own = {
      {"chat",
       {{"critical", {"PAGE {{#first}}{{device}}{{/first}}", "", ""}},
        {"default", {"", "{{count}} alert(s) for {{receiver}}", ""}}}},
      {"sms", {{"warning", {"", "{{severity_short}} {{#first}}{{rule}}{{/first}}!", ""}}}},
  };
  auto m = message(2);
  // critical: the critical title, the default text.
  render_into(m, policy_template_set(own, ChannelFamily::kChat, "critical"), ChannelFamily::kChat,
              {});
  CHECK(m.title == "PAGE core-1");
  CHECK(m.text == "2 alert(s) for Core network");
  // warning: no warning set; the default text, the built-in title.
  render_into(m, policy_template_set(own, ChannelFamily::kChat, "warning"), ChannelFamily::kChat,
              {});
  CHECK(m.title == "CRIT: 2 alerts firing: CPU high on core-1");
  CHECK(m.text == "2 alert(s) for Core network");
  // An SMS's text is the whole SMS.
  render_into(m, policy_template_set(own, ChannelFamily::kSms, "warning"), ChannelFamily::kSms, {});
  CHECK(m.title == "CRIT CPU high!");
  // A family the policy leaves out: the built-in set.
  auto email = message(1);
  render_into(email, policy_template_set(own, ChannelFamily::kEmail, "critical"),
              ChannelFamily::kEmail, {});
  CHECK(email.title == "[CRIT] CPU high on core-1");
  CHECK(policy_template_set({}, ChannelFamily::kPaging, "info").title.text() ==
        default_templates(ChannelFamily::kPaging).title.text());
}
