// Grafana's schema types use TypeScript string enums (ThresholdsMode,
// MappingType, ...). A JSON dashboard holds their string values, which tsc
// does not accept for an enum type, so Literal swaps each string enum for the
// union of its values ("absolute" | "percentage") and keeps everything else,
// including excess-property checks, as strict as the original type.
export type Literal<T> = T extends string
  ? `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Literal<U>>
      : T extends object
        ? { [K in keyof T]: Literal<T[K]> }
        : T;
