using System.Collections.Concurrent;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using AiEdge.Middleware.Internal;
using Microsoft.Extensions.Configuration;

namespace AiEdge.Middleware.Configuration.Internal;

/// <summary>
/// Walks a configuration section against the shape of the options type bound from it: every key must be a property
/// the binder would set (compared case-insensitively, as the binder does), every value must convert to its
/// property's type. Collects a failure per unknown key (naming the nearest valid one) and per bad value, and the
/// values that passed, durations rewritten to <see cref="TimeSpan"/>'s own format, for the binder to bind. Runs when
/// options are built (startup, reload), never per request.
/// </summary>
internal static class ConfigurationShape
{
    private static readonly ConcurrentDictionary<Type, Dictionary<string, PropertyInfo>> Properties = new();

    /// <summary>Walks <paramref name="section"/> as an object of <paramref name="type"/>.</summary>
    /// <param name="section">The section (its path is the full key).</param>
    /// <param name="type">The options type.</param>
    /// <param name="sections">The registered sections: a key that is one (or leads to one) is left to its own walk.</param>
    /// <param name="failures">Receives a message per problem, naming the full key.</param>
    /// <param name="values">Receives the full key and value of every scalar that passed.</param>
    public static void Walk(IConfigurationSection section, Type type, ConfigurationSections sections, List<string> failures, Dictionary<string, string?> values)
        => WalkObject(section, type, sections, failures, values);

    private static void WalkObject(IConfigurationSection section, Type? type, ConfigurationSections sections, List<string> failures, Dictionary<string, string?> values)
    {
        var properties = type is null ? null : PropertiesOf(type);
        foreach (var child in section.GetChildren())
        {
            if (sections.IsSection(child.Path))
            {
                continue;
            }

            if (properties is not null && properties.TryGetValue(child.Key, out var property))
            {
                WalkValue(child, property.PropertyType, sections, failures, values);
                continue;
            }

            if (sections.IsAboveSection(child.Path))
            {
                WalkObject(child, null, sections, failures, values);
                continue;
            }

            failures.Add(Unknown(section, child, properties, sections));
        }
    }

    private static void WalkValue(IConfigurationSection section, Type type, ConfigurationSections sections, List<string> failures, Dictionary<string, string?> values)
    {
        var hasChildren = section.GetChildren().Any();
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            failures.Add(section.Path + " can only be set in code.");
            return;
        }

        if (IsScalar(type))
        {
            if (hasChildren)
            {
                failures.Add(section.Path + " must be a single value (" + Describe(type) + "), not a section.");
                return;
            }

            WalkScalar(section, type, failures, values);
            return;
        }

        if (!hasChildren)
        {
            if (!string.IsNullOrEmpty(section.Value))
            {
                failures.Add(section.Path + " must be a section" + (ElementType(type) is not null ? " of entries" : " of settings") + ", not the value \"" + section.Value + "\".");
            }

            return;
        }

        if (ElementType(type) is { } element)
        {
            // A dictionary's keys are names and a list's are indexes: only the entries are checked.
            foreach (var child in section.GetChildren())
            {
                WalkValue(child, element, sections, failures, values);
            }

            return;
        }

        WalkObject(section, type, sections, failures, values);
    }

    private static void WalkScalar(IConfigurationSection section, Type type, List<string> failures, Dictionary<string, string?> values)
    {
        var value = section.Value;
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            values[section.Path] = value;
            return;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            // An empty value leaves the default, as an absent key does.
            return;
        }

        if (target == typeof(TimeSpan))
        {
            if (AiEdgeDuration.TryParse(value, out var duration))
            {
                values[section.Path] = duration.ToString("c", CultureInfo.InvariantCulture);
            }
            else
            {
                failures.Add(BadValue(section.Path, value, type));
            }

            return;
        }

        if (Converts(target, value))
        {
            values[section.Path] = value;
        }
        else
        {
            failures.Add(BadValue(section.Path, value, type));
        }
    }

    private static bool Converts(Type type, string value)
    {
        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value) is not null;
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or NotSupportedException or OverflowException || exception.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string BadValue(string path, string value, Type type)
        => path + " has the value \"" + value + "\", which is not " + Describe(type) + ".";

    /// <summary>How a value of <paramref name="type"/> is written, for error messages.</summary>
    internal static string Describe(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(target));
        }

        return Type.GetTypeCode(target) switch
        {
            TypeCode.Boolean => "true or false",
            TypeCode.String => "text",
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64
                => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            _ when target == typeof(TimeSpan) => AiEdgeDuration.Description,
            _ when target == typeof(Uri) => "a URI",
            _ => "a valid " + target.Name,
        };
    }

    private static string Unknown(IConfigurationSection parent, IConfigurationSection child, Dictionary<string, PropertyInfo>? properties, ConfigurationSections sections)
    {
        var names = new List<string>();
        if (properties is not null)
        {
            foreach (var property in properties)
            {
                if (!typeof(Delegate).IsAssignableFrom(property.Value.PropertyType))
                {
                    names.Add(property.Key);
                }
            }
        }

        sections.AddChildNames(parent.Path, names);
        var nearest = Nearest(child.Key, names);
        return nearest is null
            ? child.Path + " is not a known setting (" + parent.Path + " has no settings of that name; is the package that reads it added?)."
            : child.Path + " is not a known setting; the nearest valid key is " + parent.Path + ":" + nearest + ".";
    }

    /// <summary>The name in <paramref name="names"/> closest to <paramref name="key"/> by edit distance, case-insensitive.</summary>
    internal static string? Nearest(string key, IReadOnlyList<string> names)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var name in names)
        {
            var distance = EditDistance(key.ToUpperInvariant(), name.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = name;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Levenshtein distance: the fewest single-character insertions, deletions and substitutions.</summary>
    internal static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static bool IsScalar(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string) || target.IsPrimitive || target.IsEnum || target == typeof(decimal) || target == typeof(TimeSpan) || target == typeof(Uri))
        {
            return true;
        }

        return target != typeof(object) && !target.IsInterface && TypeDescriptor.GetConverter(target).CanConvertFrom(typeof(string));
    }

    /// <summary>The entry type of a dictionary or a list, or <see langword="null"/> for an object.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        Type? list = null;
        foreach (var candidate in type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
        {
            if (!candidate.IsGenericType)
            {
                continue;
            }

            var definition = candidate.GetGenericTypeDefinition();
            if (definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>))
            {
                return candidate.GetGenericArguments()[1];
            }

            if (definition == typeof(IEnumerable<>))
            {
                list = candidate.GetGenericArguments()[0];
            }
        }

        return list;
    }

    private static Dictionary<string, PropertyInfo> PropertiesOf(Type type)
        => Properties.GetOrAdd(type, static type =>
        {
            var properties = new Dictionary<string, PropertyInfo>(StringComparer.OrdinalIgnoreCase);
            for (var current = type; current is not null && current != typeof(object); current = current.BaseType)
            {
                foreach (var property in current.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
                {
                    if (property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
                    {
                        continue;
                    }

                    // The binder sets a property with a public setter, and fills a get-only collection or object in place.
                    if (property.SetMethod is not { IsPublic: true } && IsScalar(property.PropertyType))
                    {
                        continue;
                    }

                    var name = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
                    properties.TryAdd(name, property);
                }
            }

            return properties;
        });
}
