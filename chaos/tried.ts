/** One hostile input and what became of it. */
export interface Tried {
  area: "sql" | "message" | "plugin" | "policy" | "code" | "http";
  input: string;
  /** Refused or contained, as promised; else what escaped. */
  escaped?: string;
}
