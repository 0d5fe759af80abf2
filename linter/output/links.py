"""``ecrlint links``: the map of clusters, node groups, profiles, roles and workloads, as text or JSON."""

from __future__ import annotations

from ..analysis.links import Links, role_text, to_dict
from ..escape import dump_json, visible


def format_json(links: Links) -> str:
    return dump_json(to_dict(links))


def format_text(links: Links) -> str:
    """The map for people: clusters, their node groups and profiles, and each workload's puller."""
    lines: list[str] = []
    data = to_dict(links)
    for link, cluster in zip(links.clusters, data["clusters"], strict=True):
        where = "; ".join(f"{d['source']}, {d['path']}:{d['line']}" for d in cluster["definitions"])
        where = where or "not defined in the scanned files"
        facts = [f"account {link.account}" if link.account else "", f"region {link.region}" if link.region else ""]
        lines.append(f"cluster {link.label} ({where})" + "".join(f", {f}" for f in facts if f))
        for note in link.notes:
            lines.append(f"  note: {note}")
        for g, gj in zip(link.node_groups, cluster["node_groups"], strict=True):
            role = role_text(gj["role"], "node role")
            lines.append(f'  node group "{g.name}" ({g.kind}, {g.loc.short()}): {role}')
        for p, pj in zip(link.profiles, cluster["fargate_profiles"], strict=True):
            role = role_text(pj["role"], "pod execution role")
            lines.append(f'  Fargate profile "{p.name}" ({p.loc.short()}): {role}')
            for s, sj in zip(p.selectors, pj["selectors"], strict=True):
                labels = ", ".join(f"{k}={v}" for k, v in s.labels.items())
                labels = f", labels {labels}" if labels else ""
                lines.append(f'    selector namespace "{s.namespace}"{labels} ({s.loc.short()})')
                lines.extend(f"      {name}" for name in sj["workloads"])
        reasons = {w["linked_by"] for w in cluster["workloads"]}
        shared = reasons.pop() if len(reasons) == 1 else None
        if cluster["workloads"]:
            lines.append(f"  workloads ({shared})" if shared else "  workloads")
        for w in cluster["workloads"]:
            if w["runs_on"] == "fargate":
                place = "Fargate profile " + ", ".join(f'"{n}"' for n in w["fargate_profiles"])
            elif w["node_groups"]:
                groups = w["node_groups"]
                place = f"node group{'s' if len(groups) > 1 else ''} " + ", ".join(f'"{n}"' for n in groups)
            else:
                place = "nodes not in the scanned files"
            what = "pod execution role" if w["runs_on"] == "fargate" else "node role"
            roles = " or ".join(role_text(r, what) for r in w["roles"]) or "no known role"
            linked = "" if shared else f" (linked by {w['linked_by']})"
            lines.append(f"    {w['workload']} ({w['path']}:{w['line']}): {place}; pulls with {roles}{linked}")
    if data["unlinked"]:
        lines.append("unlinked workloads")
        lines.extend(f"  {u['workload']} ({u['path']}:{u['line']}): {u['reason']}" for u in data["unlinked"])
    if data["unattached"]:
        lines.append("node groups and profiles without a cluster")
        lines.extend(f"  {u['what']} ({u['path']}:{u['line']})" for u in data["unattached"])
    if not lines:
        lines.append("no clusters, node groups, Fargate profiles or workloads found")
    # Names, paths and ARNs come from the scanned files: each line shown with controls escaped.
    return "".join(visible(line) + "\n" for line in lines)
