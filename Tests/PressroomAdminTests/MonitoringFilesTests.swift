import Foundation
import PressroomAdmin
import Testing
import Yams

/// The shipped alert rules, dashboard, docs and units agree with the metric
/// names the code emits. (PromQL itself is checked by promtool in
/// scripts/verify-alerts.sh, the units by scripts/verify-systemd.sh.)
@Suite struct MonitoringFilesTests {
    static let known = Set(PressroomMetricName.all)

    @Test func alertRulesAreWellFormedAndUseKnownMetrics() throws {
        let document = try #require(try Yams.load(yaml: RepositoryFile.text("config/prometheus/alerts.yaml")) as? [String: Any])
        let groups = try #require(document["groups"] as? [[String: Any]])
        var alerts: [String] = []
        for group in groups {
            let rules = try #require(group["rules"] as? [[String: Any]])
            for rule in rules {
                let name = try #require(rule["alert"] as? String)
                alerts.append(name)
                let expression = try #require(rule["expr"] as? String)
                let used = RepositoryFile.metricNames(in: expression)
                #expect(!used.isEmpty, "\(name) uses no Pressroom metric")
                #expect(used.isSubset(of: Self.known), "\(name) uses unknown metrics \(used.subtracting(Self.known))")
                let labels = try #require(rule["labels"] as? [String: Any])
                #expect(["page", "ticket"].contains(labels["severity"] as? String), "\(name) severity")
                let annotations = try #require(rule["annotations"] as? [String: Any])
                for key in ["summary", "description", "runbook_url"] {
                    #expect((annotations[key] as? String)?.isEmpty == false, "\(name) lacks \(key)")
                }
            }
        }
        #expect(Set(alerts).count == alerts.count, "duplicate alert names")
        for required in [
            "PressroomDeadLettersGrowing", "PressroomConsumerLagAboveSLO", "PressroomPreviewLatencyAboveSLO",
            "PressroomNoConsumers", "PressroomOldestPendingTooOld", "PressroomRedisDown", "PressroomHighRetryRate",
        ] {
            #expect(alerts.contains(required), "missing alert \(required)")
        }
    }

    @Test func runbookLinksPointAtExistingSections() throws {
        let rules = try RepositoryFile.text("config/prometheus/alerts.yaml")
        let operations = try RepositoryFile.text("docs/operations.md")
        let anchors = Set(operations.split(separator: "\n").filter { $0.hasPrefix("#") }.map { heading in
            heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
                .filter { $0.isLetter || $0.isNumber || $0 == " " || $0 == "-" }
                .replacingOccurrences(of: " ", with: "-")
        })
        let links = rules.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "docs/operations.md#") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        #expect(!links.isEmpty)
        for link in links {
            #expect(anchors.contains(link), "docs/operations.md has no section #\(link)")
        }
    }

    @Test func dashboardCoversEveryMetricAndNothingElse() throws {
        let data = Data(try RepositoryFile.text("config/grafana/pressroom-dashboard.json").utf8)
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(dashboard["uid"] as? String == "pressroom-workers")
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let ids = panels.compactMap { $0["id"] as? Int }
        #expect(ids.count == panels.count)
        #expect(Set(ids).count == ids.count, "panel ids must be unique")
        var used = Set<String>()
        for panel in panels where panel["type"] as? String != "row" {
            let targets = try #require(panel["targets"] as? [[String: Any]], "panel \(panel["title"] ?? "?") has no queries")
            #expect(!targets.isEmpty)
            for target in targets {
                let expression = try #require(target["expr"] as? String)
                used.formUnion(RepositoryFile.metricNames(in: expression))
            }
        }
        #expect(used.isSubset(of: Self.known), "unknown metrics \(used.subtracting(Self.known))")
        #expect(Self.known.isSubset(of: used), "metrics without a panel: \(Self.known.subtracting(used).sorted())")
    }

    @Test func metricsDocumentationListsEveryMetric() throws {
        let doc = try RepositoryFile.text("docs/metrics.md")
        for name in PressroomMetricName.all {
            #expect(doc.contains("`\(name)`"), "docs/metrics.md does not document \(name)")
        }
    }

    @Test func unitFileCarriesTheOperationalSettings() throws {
        let unit = try RepositoryFile.text("systemd/pressroom@.service")
        let settings = Dictionary(
            unit.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }.map { line -> (String, String) in
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), String(parts[1]))
            },
            uniquingKeysWith: { first, _ in first }
        )
        #expect(settings["Type"] == "notify")
        #expect(settings["NotifyAccess"] == "main")
        #expect(settings["WatchdogSec"] == "30s")
        #expect(settings["ExecStart"] == "/usr/local/bin/pressroom run --config /etc/pressroom/pressroom.yaml --consumer %i --instance %i")
        #expect(settings["PartOf"] == "pressroom.target")
        #expect(settings["CapabilityBoundingSet"] == "")
        // Longer than the daemon's 30 s default drain timeout.
        let stop = try #require(settings["TimeoutStopSec"].flatMap { Int($0.dropLast()) })
        #expect(stop > 30)
    }
}
