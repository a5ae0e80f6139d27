/**
 * Worker permissions that grant nothing but reading the named environment variables, which
 * some libraries probe when they load.
 */
export function noPermissions(env: string[] = []): Deno.PermissionOptionsObject {
  return {
    read: false,
    write: false,
    net: false,
    env: env.length > 0 ? env : false,
    run: false,
    sys: false,
    ffi: false,
    import: false,
  };
}
