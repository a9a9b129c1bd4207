using AiEdge.Middleware.LoadBench;

// Five roles: `bare --urls http://127.0.0.1:PORT` serves the sample's endpoints on bare Kestrel (no AiEdge);
// `builtins --urls ...` serves them behind ASP.NET Core's own forwarded headers, CORS and rate limiter and a
// security-header middleware; `samejobs --urls ...` serves the train endpoint behind AiEdge doing those same jobs and
// nothing else; `yarp --urls ... --YarpAlone:Destinations:0 URL` relays the embeddings route with YARP alone;
// `streams --url URL --count N` opens N concurrent chat streams and prints time-to-first-event percentiles.
return (args.Length > 0 ? args[0] : "") switch
{
    "streams" => await StreamClient.RunAsync(args[1..]),
    "builtins" => BuiltIns.Run(args[1..]),
    "samejobs" => SameJobs.Run(args[1..]),
    "yarp" => YarpAlone.Run(args[1..]),
    "bare" => BareKestrel.Run(args[1..]),
    _ => BareKestrel.Run(args),
};
