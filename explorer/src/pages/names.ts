/**
 * Names and identities on the L1: a `.ghost` name (owner, records, linked DID,
 * and the owner's L2 account, which is how a search by name finds an account) and
 * a `did:ghost` DID's resolved document (keys, relationships, services).
 */

import { type NameRecord, fromHex } from "@ghostplane/client";
import { l1, l2 } from "../api";
import { type Child, badge, h, heading, href, kv, link, mono, notFound, section, short, table, with0x } from "../render";

/** The L2 address record's coin type (`COIN_L2`, `crates/l1/types/src/naming.rs`): key ‖ account id (u32 LE). */
const COIN_L2 = 0x4748_0002;
/** The L1 address record's coin type (`COIN_L1`). */
const COIN_L1 = 0x4748_0001;
/** DID Core's verification relationships. */
const RELATIONSHIPS = ["authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation"];

/** `#/name/<name>` */
export async function namePage([name = ""]: string[]): Promise<Child> {
  const view = await l1.namingResolve(name);
  if (view === null) return notFound(`No live name ${name}.`);
  const owner = with0x(view.owner);
  const ownerAccount = await l2.getAccount(owner);
  const did = view.records.find((r): r is Extract<NameRecord, { type: "did" }> => r.type === "did")?.value;
  return [
    heading("Name", view.name),
    kv([
      ["Owner", mono(owner)],
      [
        "Owner's L2 account",
        ownerAccount === null
          ? h("span", { class: "muted" }, "the owner's key has no L2 account")
          : h("a", { href: href.account(owner), id: "owner-account" }, `account ${ownerAccount.id}`),
      ],
      ["Manager", view.manager === null ? null : mono(with0x(view.manager))],
      ["State", badge(view.state)],
      ["Registered", link(href.l1Block(view.registered), `L1 block ${view.registered}`)],
      ["Expires", `L1 block ${view.expires}`],
      ["DID", did === undefined ? null : [link(href.did(did), did), " ", view.didLinked ? badge("linked") : h("span", { class: "muted" }, "(not linked back)")]],
    ]),
    section(
      `Records (${view.records.length})`,
      table(["type", "value"], view.records.map(recordRow), "No records."),
    ),
  ];
}

/** A record as a table row, addresses read (the L2 one links to its account). */
function recordRow(r: NameRecord): Child[] {
  switch (r.type) {
    case "addr": {
      if (r.coin === COIN_L2 && r.value.length === 72) {
        const key = with0x(r.value.slice(0, 64));
        const id = new DataView(fromHex(r.value.slice(64)).buffer).getUint32(0, true);
        return ["L2 address", [link(href.account(id), `account ${id}`), " ", keyText(key)]];
      }
      return [r.coin === COIN_L1 ? "L1 address" : `address (coin ${r.coin})`, keyText(with0x(r.value))];
    }
    case "text":
      return [`text ${r.key}`, r.value];
    case "contenthash":
      return ["contenthash", mono(r.value)];
    case "dns":
      return [`DNS ${r.kind}`, `${r.value} (TTL ${r.ttl} s)`];
    case "did":
      return ["DID", link(href.did(r.value), r.value)];
  }
}

/** A key or address shortened, whole in its title. */
function keyText(hex: string): HTMLElement {
  return h("span", { class: "mono", title: hex }, short(hex));
}

/** `#/did/<did>` */
export async function didPage([did = ""]: string[]): Promise<Child> {
  const result = await l1.identityResolve(did);
  const doc = result.didDocument;
  const error = result.didResolutionMetadata.error;
  if (doc === null || error !== undefined) return notFound(`${did}: ${error ?? "no document"}.`);
  const meta = result.didDocumentMetadata;
  const methods = doc.verificationMethod ?? [];
  const services = (doc.service ?? []) as { id: string; type: string | string[]; serviceEndpoint: unknown }[];
  const aka = (doc.alsoKnownAs ?? []) as string[];
  const controllers = doc.controller === undefined ? [] : Array.isArray(doc.controller) ? doc.controller : [doc.controller];
  return [
    heading("DID", mono(doc.id)),
    kv([
      ["Created", meta.created as string | undefined],
      ["Updated", meta.updated as string | undefined],
      ["Version", meta.versionId as string | undefined],
      ["Deactivated", meta.deactivated === true ? badge("deactivated") : null],
      ["Controllers", controllers.length === 0 ? null : controllers.map((c) => h("div", null, mono(c)))],
      [
        "Also known as",
        aka.length === 0 ? null : aka.map((a) => h("div", null, a.startsWith("dns:") ? link(href.name(a.slice(4)), a) : a)),
      ],
    ]),
    section(
      `Keys (${methods.length})`,
      table(
        ["id", "type", "key", "relationships"],
        methods.map((m) => [
          mono(m.id.replace(doc.id, "")),
          m.type,
          mono(m.publicKeyMultibase ?? ""),
          RELATIONSHIPS.filter((rel) => ((doc[rel] ?? []) as unknown[]).some((ref) => ref === m.id)).join(", "),
        ]),
        "No keys.",
      ),
    ),
    section(
      `Services (${services.length})`,
      table(
        ["id", "type", "endpoint"],
        services.map((s) => [mono(s.id.replace(doc.id, "")), String(s.type), mono(JSON.stringify(s.serviceEndpoint).replace(/^"|"$/g, ""))]),
        "No services.",
      ),
    ),
  ];
}
