#!/usr/bin/env python3
# A second real text task, offline, of another shape than fine foods: the one-line synopsis of Debian bookworm packages
# (short texts, median about 6 words), classified into five sections (games, science, sound, graphics, net).
# usage: /usr/lib/apt/apt-helper cat-file /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4 > Packages
#        python3 debian_sections.py Packages OUTDIR      -> OUTDIR/train.csv (2,500 rows), OUTDIR/test.csv (1,000 rows)
# Library packages (lib*), -dev, -doc, -dbg and -data packages are left out (their synopses repeat their program's).
import csv, random, re, sys
sections = ["games", "science", "sound", "graphics", "net"]
rows, package, section = [], None, None
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("Package: "): package = line[9:].strip()
    elif line.startswith("Section: "): section = line[9:].strip()
    elif line.startswith("Description: ") and section in sections and not re.match(r"^lib|.*-(dev|doc|dbg|data|common)$", package):
        rows.append((line[13:].strip(), section))
random.seed(1)
random.shuffle(rows)
seen, unique = set(), []
for text, label in rows:
    if text.lower() not in seen: seen.add(text.lower()); unique.append((text, label))
for name, part in [("train.csv", unique[:2500]), ("test.csv", unique[2500:3500])]:
    with open(f"{sys.argv[2]}/{name}", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_ALL); w.writerow(["text", "label"]); w.writerows(part)
print(len(unique), "unique synopses;", {s: sum(1 for _, l in unique[:3500] if l == s) for s in sections})
