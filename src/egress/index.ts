/**
 * The one SSRF-safe way out of Kassa. Every webhook, callback and proxied resource goes through
 * `createEgressClient`; merchant URLs are checked with `checkOutboundUrl` when they are registered.
 */
export {
  ADDRESS_CLASSES,
  classifyAddress,
  extractEmbeddedIpv4,
  parseHost,
  parseIpAddress,
} from './address-classifier.ts';
export type { AddressClass, IPAddress, ParsedHost } from './address-classifier.ts';
export {
  checkOutboundUrl,
  compileEgressPolicy,
  createTargetInspector,
  inspectOutboundUrl,
  isAddressAllowed,
  isHostAllowListed,
  parseEgressPolicy,
} from './egress-policy.ts';
export type {
  ApprovedTarget,
  CompiledEgressPolicy,
  Destination,
  EgressMode,
  EgressPolicy,
  EgressRefusal,
  EgressRefusalCode,
  InspectedTarget,
  InspectedUrl,
} from './egress-policy.ts';
export { EgressError, createEgressClient, resolveWithSystemDns } from './egress-client.ts';
export type {
  EgressClient,
  EgressClientOptions,
  EgressErrorKind,
  EgressRequest,
  EgressResponse,
  ResolveHostname,
  ResolvedAddress,
} from './egress-client.ts';
