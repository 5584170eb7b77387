/** A service process could not be started or did not become ready. */
export class ServiceStartError extends Error {
  override name = "ServiceStartError";
  constructor(
    message: string,
    /** The last lines the process wrote, to say why. */
    readonly output = "",
    options?: ErrorOptions,
  ) {
    super(output ? `${message}\n${output}` : message, options);
  }
}
