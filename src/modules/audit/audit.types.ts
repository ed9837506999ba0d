/** Who acted: an API credential (`key_…`, `cli_…`), a dashboard user, or Kassa itself (workers, CLI). */
export type AuditActor = { type: 'credential' | 'user' | 'system'; id: string; label?: string };
