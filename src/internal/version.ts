/**
 * The package's version, sent in the `user-agent` header
 * (`claude-resilience/<version>`). A test checks it against package.json.
 *
 * @internal
 */
export const version = "0.1.0"

/** @internal */
export const userAgent = `claude-resilience/${version}`
