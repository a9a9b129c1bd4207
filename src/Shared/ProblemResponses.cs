using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;

namespace AiEdge.Middleware.Internal;

/// <summary>
/// The problem-details answers an AiEdge concern can give on an endpoint, as the OpenAPI response metadata ASP.NET
/// Core's <c>ProducesProblem(status)</c> adds. The concerns' endpoint conventions add them when the endpoint is
/// built (never per request), one shared instance per status.
/// </summary>
internal static class ProblemResponses
{
    private static readonly string[] ProblemContentTypes = ["application/problem+json"];

    public static readonly IProducesResponseTypeMetadata BadRequest = Create(StatusCodes.Status400BadRequest);
    public static readonly IProducesResponseTypeMetadata Unauthorized = Create(StatusCodes.Status401Unauthorized);
    public static readonly IProducesResponseTypeMetadata Forbidden = Create(StatusCodes.Status403Forbidden);
    public static readonly IProducesResponseTypeMetadata Conflict = Create(StatusCodes.Status409Conflict);
    public static readonly IProducesResponseTypeMetadata PayloadTooLarge = Create(StatusCodes.Status413PayloadTooLarge);
    public static readonly IProducesResponseTypeMetadata UnprocessableEntity = Create(StatusCodes.Status422UnprocessableEntity);
    public static readonly IProducesResponseTypeMetadata TooManyRequests = Create(StatusCodes.Status429TooManyRequests);
    public static readonly IProducesResponseTypeMetadata ServiceUnavailable = Create(StatusCodes.Status503ServiceUnavailable);

    /// <summary>Declares <paramref name="response"/> unless the endpoint already declares a response of its status (the app's own wins).</summary>
    public static void Add(EndpointBuilder endpoint, IProducesResponseTypeMetadata response)
    {
        foreach (var item in endpoint.Metadata)
        {
            if (item is IProducesResponseTypeMetadata declared && declared.StatusCode == response.StatusCode)
            {
                return;
            }
        }

        endpoint.Metadata.Add(response);
    }

    private static ProducesResponseTypeMetadata Create(int status) => new(status, typeof(ProblemDetails), ProblemContentTypes);
}
