#!/usr/bin/env python3
# bench/snmp_exporter_yml.py — writes to stdout the prometheus-snmp-exporter config the SNMP
# benchmarks use (bench/snmp.sh, bench/poller.sh): module `if_mib` as upstream's generator writes
# it — walks sysUpTime, interfaces (1.3.6.1.2.1.2) and ifXTable (1.3.6.1.2.1.31.1.1), every
# ifTable/ifXTable column a metric, ifAlias/ifDescr/ifName as lookup labels; v2c community
# `public`, GETBULK max-repetitions 25, 1 retry, 10 s timeout.
ift = "1.3.6.1.2.1.2.2.1"
ifx = "1.3.6.1.2.1.31.1.1.1"
cols = [(ift, 1, "ifIndex", "gauge"), (ift, 3, "ifType", "gauge"), (ift, 4, "ifMtu", "gauge"),
        (ift, 5, "ifSpeed", "gauge"), (ift, 6, "ifPhysAddress", "PhysAddress48"),
        (ift, 7, "ifAdminStatus", "gauge"), (ift, 8, "ifOperStatus", "gauge"),
        (ift, 9, "ifLastChange", "gauge")]
cols += [(ift, c, n, "counter") for c, n in [
    (10, "ifInOctets"), (11, "ifInUcastPkts"), (12, "ifInNUcastPkts"), (13, "ifInDiscards"),
    (14, "ifInErrors"), (15, "ifInUnknownProtos"), (16, "ifOutOctets"), (17, "ifOutUcastPkts"),
    (18, "ifOutNUcastPkts"), (19, "ifOutDiscards"), (20, "ifOutErrors")]]
cols += [(ift, 21, "ifOutQLen", "gauge")]
cols += [(ifx, c, n, "counter") for c, n in [
    (2, "ifInMulticastPkts"), (3, "ifInBroadcastPkts"), (4, "ifOutMulticastPkts"),
    (5, "ifOutBroadcastPkts"), (6, "ifHCInOctets"), (7, "ifHCInUcastPkts"),
    (8, "ifHCInMulticastPkts"), (9, "ifHCInBroadcastPkts"), (10, "ifHCOutOctets"),
    (11, "ifHCOutUcastPkts"), (12, "ifHCOutMulticastPkts"), (13, "ifHCOutBroadcastPkts")]]
cols += [(ifx, c, n, "gauge") for c, n in [
    (14, "ifLinkUpDownTrapEnable"), (15, "ifHighSpeed"), (16, "ifPromiscuousMode"),
    (17, "ifConnectorPresent"), (19, "ifCounterDiscontinuityTime")]]
lookups = [("ifAlias", ifx + ".18"), ("ifDescr", ift + ".2"), ("ifName", ifx + ".1")]
print("if_mib:")
print("  walk:\n  - 1.3.6.1.2.1.1.3\n  - 1.3.6.1.2.1.2\n  - 1.3.6.1.2.1.31.1.1")
print("  version: 2\n  max_repetitions: 25\n  retries: 1\n  timeout: 10s")
print("  auth:\n    community: public")
print("  metrics:")
print("  - name: sysUpTime\n    oid: 1.3.6.1.2.1.1.3\n    type: gauge\n    help: sysUpTime")
print("  - name: ifNumber\n    oid: 1.3.6.1.2.1.2.1\n    type: gauge\n    help: ifNumber")
for table, col, name, typ in cols:
    print(f"  - name: {name}\n    oid: {table}.{col}\n    type: {typ}\n    help: {name}")
    print("    indexes:\n    - labelname: ifIndex\n      type: gauge")
    print("    lookups:")
    for label, oid in lookups:
        print(f"    - labels:\n      - ifIndex\n      labelname: {label}\n      oid: {oid}\n"
              f"      type: DisplayString")
