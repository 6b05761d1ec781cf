package io.r1cluster.actors.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A request the server refuses, answered with an OpenAI-style error body:
 *
 * <pre>
 * HTTP status
 * {"error": {"message": "...", "type": "invalid_request_error", "param": "temperature", "code": null}}
 * </pre>
 *
 * 400 names the offending field in {@code param}; 401 a missing or wrong API key; 404 an unknown
 * model or route; 429 a full queue (with {@code Retry-After}); 500 an engine failure.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String type;
  private final String param;
  private final String code;

  public ApiException(int status, String type, String param, String code, String message) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** 400: field {@code param} is missing, of the wrong type or out of range. */
  public static ApiException badField(String param, String message) {
    return new ApiException(400, "invalid_request_error", param, null, param == null ? message : param + ": " + message);
  }

  public int status() {
    return status;
  }

  public String param() {
    return param;
  }

  public String type() {
    return type;
  }

  public String code() {
    return code;
  }

  /** The JSON error body. */
  public ObjectNode body(ObjectMapper json) {
    ObjectNode root = json.createObjectNode();
    ObjectNode e = root.putObject("error");
    e.put("message", getMessage());
    e.put("type", type);
    if (param == null) {
      e.putNull("param");
    } else {
      e.put("param", param);
    }
    if (code == null) {
      e.putNull("code");
    } else {
      e.put("code", code);
    }
    return root;
  }
}
