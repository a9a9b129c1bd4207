using System.Net;
using AiEdge.Middleware.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiEdge.Middleware.Core.Tests;

public sealed class UseAiEdgeTests
{
    [Fact]
    public async Task UseAiEdge_AppliesStagesInStageOrder_WhateverTheRegistrationOrder()
    {
        await using var app = await TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(edge => edge
                .AddStage(AiEdgeStage.Caching, "c", a => a.Use(Append("caching")))
                .AddStage(AiEdgeStage.SecurityHeaders, "s", a => a.Use(Append("security")))
                .AddStage(AiEdgeStage.RateLimiting, "r", a => a.Use(Append("ratelimit")))
                .AddStage(AiEdgeStage.ForwardedHeaders, "f", a => a.Use(Append("forwarded")))),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/", (HttpContext c) => c.Response.Headers["X-Order"].ToString());
            });

        var body = await app.Client.GetStringAsync("/");

        Assert.Equal("forwarded,security,ratelimit,caching", body);
    }

    [Fact]
    public async Task AddStage_SameKeyTwice_AppliesOnce()
    {
        await using var app = await TestApp.StartAsync(
            builder =>
            {
                builder.Services.AddAiEdgeCore(edge => edge.AddStage(AiEdgeStage.Caching, "c", a => a.Use(Append("one"))));
                builder.Services.AddAiEdgeCore(edge => edge.AddStage(AiEdgeStage.Caching, "c", a => a.Use(Append("two"))));
            },
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/", (HttpContext c) => c.Response.Headers["X-Order"].ToString());
            });

        Assert.Equal("one", await app.Client.GetStringAsync("/"));
    }

    [Fact]
    public async Task Stages_AfterRouting_SeeTheSelectedEndpoint()
    {
        await using var app = await TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(edge => edge.AddStage(AiEdgeStage.RateLimiting, "e", a => a.Use(static (context, next) =>
            {
                context.Response.Headers["X-Endpoint"] = context.GetEndpoint()?.DisplayName ?? "none";
                return next(context);
            }))),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/named", () => "ok").WithDisplayName("named-endpoint");
            });

        var response = await app.Client.GetAsync("/named");

        Assert.Equal("named-endpoint", response.Headers.GetValues("X-Endpoint").Single());
    }

    [Fact]
    public async Task UnknownRoute_IsAProblemDetails404()
    {
        await using var app = await TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/", () => "ok");
            });

        var response = await app.Client.GetAsync("/missing");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnhandledException_IsAProblemDetails500_WithoutDetailsOfTheException()
    {
        await using var app = await TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/boom", string () => throw new InvalidOperationException("secret internals"));
            });

        var response = await app.Client.GetAsync("/boom");

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError);
        Assert.DoesNotContain("secret internals", problem.ToString());
    }

    [Fact]
    public async Task UseAiEdge_WithoutServices_FailsNamingTheFix()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.UseAiEdge());

        Assert.Contains("AddAiEdge()", error.Message);
    }

    [Fact]
    public async Task UseAiEdge_CalledTwice_Fails()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddAiEdgeCore();
        await using var app = builder.Build();
        app.UseAiEdge();

        Assert.Throws<InvalidOperationException>(() => app.UseAiEdge());
    }

    [Fact]
    public async Task AiEdgeProblems_WritesProblemJson_WithExtensions()
    {
        await using var app = await TestApp.StartAsync(
            builder => builder.Services.AddAiEdgeCore(),
            app =>
            {
                app.UseAiEdge();
                app.MapGet("/p", (HttpContext c) => AiEdgeProblems.WriteAsync(c, 429, "Too many", "slow down", "https://example.test/quota", [new("violated-policy", "predict")]));
            });

        var response = await app.Client.GetAsync("/p");

        var problem = await ProblemAssert.IsProblemAsync(response, (HttpStatusCode)429);
        Assert.Equal("https://example.test/quota", problem.GetProperty("type").GetString());
        Assert.Equal("predict", problem.GetProperty("violated-policy").GetString());
    }

    private static Func<HttpContext, Func<Task>, Task> Append(string name) => (context, next) =>
    {
        var current = context.Response.Headers["X-Order"].ToString();
        context.Response.Headers["X-Order"] = current.Length == 0 ? name : current + "," + name;
        return next();
    };
}
