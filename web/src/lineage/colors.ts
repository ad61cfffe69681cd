// Artifacts are coloured by type: a fixed palette, picked by a hash of the type name so
// a type keeps its colour across pages and exports.
const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#0891b2", "#dc2626", "#4d7c0f", "#c026d3", "#0f766e", "#b45309"];

export const RUN_COLOR = "#475569";

export function typeColor(type: string): string {
  let h = 0;
  for (let i = 0; i < type.length; i += 1) h = (h * 31 + type.charCodeAt(i)) | 0;
  return PALETTE[Math.abs(h) % PALETTE.length];
}

export function nodeColor(kind: "run" | "artifact", type: string): string {
  return kind === "run" ? RUN_COLOR : typeColor(type);
}
