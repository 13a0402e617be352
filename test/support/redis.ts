/**
 * A real `redis-server` (Debian's package) for the tests: started on a free
 * loopback port with no persistence (`--save "" --appendonly no`), stopped
 * (or killed, by its pid) by the test, and always stopped when the scope
 * closes. `.ci/run` installs the package when it is missing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Net from "node:net"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** The server's pid while it runs. */
  readonly pid: () => number | undefined
  /** Kills the server with SIGKILL (as a crash would) and waits for it to be gone. */
  readonly kill: () => Promise<void>
  /** Starts it again on the same port (after `kill`). */
  readonly restart: () => Promise<void>
  /** The server's own client: one command, its reply as text. */
  readonly command: (...args: ReadonlyArray<string>) => Promise<string>
}

/** A port nothing listens on now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const ping = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    let reply = ""
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on("error", () => done(false))
    socket.on("connect", () => socket.write("PING\r\n"))
    socket.on("data", (chunk) => {
      reply += chunk.toString()
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"))
    })
  })

const launch = async (port: number): Promise<ChildProcess> => {
  const child = spawn("redis-server", [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--save", "",
    "--appendonly", "no",
    "--protected-mode", "no",
    "--loglevel", "warning"
  ], { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  for (let i = 0; i < 200; i++) {
    if (await ping(port)) return child
    if (child.exitCode !== null) break
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  child.kill("SIGKILL")
  await exited
  throw new Error(`redis-server did not start on port ${port}`)
}

const stop = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => {
      child.once("exit", () => resolve())
      child.kill(signal)
    })

/** Starts a redis-server for the tests. */
export const startRedis = async (port?: number): Promise<RedisServer & { readonly stop: () => Promise<void> }> => {
  let chosen = port ?? await freePort()
  let child: ChildProcess | undefined
  for (let attempt = 0; child === undefined; attempt++) {
    try {
      child = await launch(chosen)
    } catch (error) {
      // the port was taken meanwhile: another one
      if (port !== undefined || attempt >= 3) throw error
      chosen = await freePort()
    }
  }
  const command = (...args: ReadonlyArray<string>): Promise<string> =>
    new Promise((resolve, reject) => {
      const cli = spawn("redis-cli", ["-p", String(chosen), ...args], { stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      cli.stdout.on("data", (chunk) => out += chunk.toString())
      cli.on("error", reject)
      cli.on("exit", () => resolve(out.trim()))
    })
  return {
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    pid: () => child?.exitCode === null && child.signalCode === null ? child.pid : undefined,
    kill: async () => {
      if (child !== undefined) await stop(child, "SIGKILL")
    },
    restart: async () => {
      if (child !== undefined) await stop(child, "SIGKILL")
      child = await launch(chosen)
    },
    stop: async () => {
      if (child !== undefined) await stop(child, "SIGTERM")
    },
    command
  }
}

/** A redis-server for the scope: stopped when it closes. */
export const redisServer: Effect.Effect<RedisServer, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startRedis()),
  (server) => Effect.promise(() => server.stop())
)
