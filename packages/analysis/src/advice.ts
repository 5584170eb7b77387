import { asLabel, type HopView } from "./hop-view";

/**
 * Whom to contact for a problem at a hop, by region (the analysis guide's table): the LAN admin or
 * access carrier for A, the carrier that operates the hop for B (named by ASN and owner when the hop
 * carries them), the destination's carrier for C. `verb` starts the sentence ("Contact").
 */
export function regionContact(
  at: Pick<HopView, "region" | "asn" | "owner" | "address">,
  verb: string,
): string {
  const as = asLabel(at);
  switch (at.region) {
    case "A":
      return `${verb} your network administrator (LAN) or your access carrier${as ? `, ${as}` : ""}`;
    case "B":
      return as
        ? `${verb} the carrier that operates ${at.address ?? "this hop"}: ${as}`
        : `${verb} the carrier that operates ${at.address ?? "this hop"} (look up the owner of the address)`;
    case "C":
      return `${verb} the destination's network or its hosting carrier${as ? `, ${as}` : ""}`;
  }
}
