#!/bin/bash
# The README tour, scripts/tour.sh, on its default: a 64 GiB sparse file,
# the default layout (Xen management area, 1 GiB alignment), an owner by
# UUID. Every command's output is checked, then the namespace itself.
. "$(dirname "$0")/lib.sh" "$@"

TOUR=$(cd "$(dirname "$0")/../.." && pwd)/scripts/tour.sh
[ -x "$TOUR" ] || fail "no $TOUR"
NS=$T/tour.img
mkns tour.img 64G

step "scripts/tour.sh"
RC=0
XENPMEM=$XP "$TOUR" "$NS" >"$T/tour.out" 2>"$ERR" || RC=$?
[ "$RC" -eq 0 ] || fail "tour exited $RC: $(tail -n 5 "$T/tour.out")"
[ ! -s "$ERR" ] || fail "tour wrote to stderr"

# Split the transcript at its "$ xenpmem ..." lines and check each part.
"$PY" - "$T/tour.out" "$NS" <<'PY' || fail "tour transcript"
import json, re, sys
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
text = open(sys.argv[1]).read()
ns = sys.argv[2]
parts = re.split(r"^\$ xenpmem (.*)$", text, flags=re.M)
steps = list(zip(parts[1::2], parts[2::2]))
cmds = [c.split()[0] + (" " + c.split()[1] if c.split()[0] == "create" else "")
        for c, _ in steps]
assert cmds == ["init", "create web", "create db", "create scratch",
                "create small", "list", "map", "activate", "export",
                "deactivate", "check"], cmds
out = {c: o.strip() for c, (_, o) in zip(cmds, steps)}
OWNER = "6f1c0d8e-4b6a-4c1e-9a57-1b2f3e4d5c6b"

i = json.loads(out["init"])
assert i["version"] == "2.0" and i["size"] == 64 * GiB, i
assert i["features"] == {"compat": 0, "ro_compat": 0, "incompat": 0}, i
assert i["mgmt"] == "xen" and i["compat_m2p"] is True, i
assert i["align"] == GiB and i["data_offset"] == GiB, i
# the data area ends at the last 1 GiB boundary before the backup
assert i["data_offset"] + i["data_size"] == 63 * GiB, i
# Xen x86-64 geometry over [1G, 63G) of a file (physical address 0):
# frame table 1 chunk / 256 MiB, M2P 1 / 1 GiB, compat M2P 1 / 2 GiB
assert (i["ft_chunks"], i["m2p_chunks"], i["compat_m2p_chunks"]) == (248, 62, 32), i
assert i["mgmt_offset"] == 2 * MiB and i["ft_offset"] == i["mgmt_offset"]
assert i["m2p_offset"] == i["ft_offset"] + 248 * 2 * MiB
assert i["compat_m2p_offset"] == i["m2p_offset"] + 62 * 2 * MiB
assert i["mgmt_size"] == (248 + 62 + 32) * 2 * MiB
assert i["mgmt_offset"] + i["mgmt_size"] <= i["data_offset"]
assert i["slots"] == 1024 and i["extents"] == 0 and i["free"] == i["data_size"]
assert i["corrupt_slots"] == 0 and i["rule_violations"] == 0 and not i["moved"]
assert i["superblocks"] == {"agree": True, "primary": "ok", "backup": "ok"}
assert i["target"] == ns and i["backend"] == "file" and "phys_start" not in i

web = json.loads(out["create web"])
assert web["owner"] == OWNER and web["size"] == 8 * GiB and web["align"] == GiB, web
assert web["offset"] == GiB and web["state"] == "data", web
db = json.loads(out["create db"])
assert "owner" not in db and db["size"] == 16 * GiB and db["offset"] == 9 * GiB, db
sc = json.loads(out["create scratch"])
assert sc["label_size"] == 128 * KiB and sc["offset"] == 25 * GiB, sc
sm = json.loads(out["create small"])
assert sm["align"] == 2 * MiB and sm["offset"] == 27 * GiB and sm["size"] == 64 * MiB, sm

lst = json.loads(out["list"])
assert [e["name"] for e in lst] == ["web", "db", "scratch", "small"], lst
assert lst[0]["owner"] == OWNER and lst[0]["size"] == "8.00 GiB (8.59 GB)", lst[0]
assert lst[1]["offset"] == "0x240000000" and "owner" not in lst[1], lst[1]
assert lst[3]["size"] == "64.00 MiB (67.11 MB)" and lst[3]["align"] == 2 * MiB

m = out["map"].splitlines()
assert m[0] == ns + ": 64.00 GiB, 72 columns of 910.22 MiB", m[0]
bar = m[1]
assert len(bar) == 72 and bar[0] == "S" and bar[-1] == "B", bar
assert bar.index("M") < bar.index("A") < bar.index("C") < bar.index("D") < bar.index(".")
legend = "\n".join(m[2:])
for w in ("mgmt: FT 248, M2P 62, C 32", "web", "db", "scratch", "small", "free",
          "backup superblock", "35.94 GiB"):
    assert w in legend, w

# QEMU 7.2 has no offset=: the tour hands it a loop device over db
act = json.loads(out["activate"])
assert act["kind"] == "loop" and act["device"].startswith("/dev/loop"), act
assert (act["offset"], act["size"]) == (9 * GiB, 16 * GiB), act
assert out["export"] == ("-object memory-backend-file,id=xp-db,mem-path=%s,"
    "size=17179869184,share=on,align=1073741824 "
    "-device nvdimm,id=nv-db,memdev=xp-db" % act["device"]), out["export"]
assert out["deactivate"] == "xenpmem deactivate: deactivated extent 'db' of " + ns, out["deactivate"]
assert out["check"].splitlines()[0] == ns + ": clean", out["check"]
assert "on disk of 64G" in out["check"], out["check"]
PY

step "what the tour left"
ok list "$NS"
pycheck '
assert [(e["name"], e["size"], e.get("owner")) for e in j] == [
    ("web", 8 * GiB, "6f1c0d8e-4b6a-4c1e-9a57-1b2f3e4d5c6b"), ("db", 16 * GiB, None),
    ("scratch", 2 * GiB, None), ("small", 64 * MiB, None)], j
for a, b in zip(j, j[1:]):
    assert a["offset"] + a["size"] <= b["offset"]
'
ok info "$NS"
pycheck 'assert j["extents"] == 4 and j["used"] == 26 * GiB + 64 * MiB
assert j["free"] == j["data_size"] - j["used"]'
ok check "$NS"
echo "tour: all passed"
