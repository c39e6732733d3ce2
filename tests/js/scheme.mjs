// The demo scheme's shape (selectors.scheme_payload), shared by the unit tests.
export const SCHEME = {
  span_labels: [
    { id: 1, name: "Claim", color: "#1f77b4", hotkey: "1" },
    { id: 2, name: "Justification", color: "#2ca02c", hotkey: "2" },
    { id: 3, name: "Critique", color: "#d62728", hotkey: "3" },
    { id: 4, name: "Old", color: "#000000", hotkey: null, retired: true },
  ],
  relation_types: [
    { id: 1, name: "supports", hotkey: "+", directed: true, from_labels: [], to_labels: [] },
    {
      id: 2,
      name: "attacks",
      hotkey: "-",
      directed: true,
      from_labels: ["Critique"],
      to_labels: [],
    },
  ],
  span_attributes: [
    { name: "source", kind: "entity", suggestions: ["US officials"] },
    { name: "stance", kind: "choice", values: ["favor", "against", "neutral"] },
  ],
  stance_targets: [{ id: 7, name: "The decision" }],
  stance_values: ["favor", "against", "neutral"],
};
