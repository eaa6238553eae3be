// Quiet logs in tests unless asked for; servers listen on loopback only.
process.env.LOG_LEVEL ??= 'silent';
