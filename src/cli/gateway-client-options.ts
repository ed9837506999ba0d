/** The options every command that talks to a running gateway takes (plain data: read by the command table). */
export const GATEWAY_OPTIONS = {
  gateway: {
    type: 'string',
    valueName: 'URL',
    description: 'the gateway (default: $KASSA_GATEWAY_URL, else http://localhost:$PORT, PORT 3000)',
  },
  'api-key': {
    type: 'string',
    valueName: 'KEY',
    description: "a merchant's API key (default: $KASSA_API_KEY)",
  },
} as const;
