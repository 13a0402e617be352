/**
 * Test support: the wire-faithful emulator, and virtual time over its real
 * sockets.
 *
 * Needs `@effect/platform-node` (an optional peer dependency of
 * claude-resilience, needed only by this entry point).
 *
 * @since 0.1.0
 */

/**
 * The emulator: a real HTTP server on loopback that speaks the Claude wire
 * format and replies as a fault script says.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * `VirtualTime.run`: drive the `TestClock` while real loopback I/O settles,
 * so that retry timing can be asserted against the emulator.
 *
 * @since 0.1.0
 */
export * as VirtualTime from "./VirtualTime.js"

/**
 * A deterministic fleet simulation in virtual time: the library's policy
 * against the SDK's and others', under outages, quotas and contention.
 *
 * @since 0.2.0
 */
export * as Simulation from "./Simulation.js"
