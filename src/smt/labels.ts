/** How obligations name the layer they speak about: "conv1 (#0)". */
export function layerLabel(l: { readonly name: string; readonly index: number }): string {
  return `${l.name} (#${l.index})`;
}
