/**
 * Test support: the wire-faithful emulator.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"
