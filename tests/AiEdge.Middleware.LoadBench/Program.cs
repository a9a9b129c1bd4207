using AiEdge.Middleware.LoadBench;

// Two roles: `bare --urls http://127.0.0.1:PORT` serves the sample's endpoints on bare Kestrel (no AiEdge);
// `streams --url URL --count N` opens N concurrent chat streams and prints time-to-first-event percentiles.
return args.Length > 0 && args[0] == "streams"
    ? await StreamClient.RunAsync(args[1..])
    : BareKestrel.Run(args.Length > 0 && args[0] == "bare" ? args[1..] : args);
