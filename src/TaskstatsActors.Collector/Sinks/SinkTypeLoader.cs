using System.Reflection;
using System.Reflection.Metadata;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using TaskstatsActors.Collector.Settings;

namespace TaskstatsActors.Collector.Sinks;

/// <summary>
/// Resolves a sink's <c>class = "Namespace.Type, Assembly"</c>, optionally from the assembly file at
/// <c>assembly-path</c>, and checks that it is a sink. Resolution is by type name, the way
/// Akka.Persistence resolves its plugins, so a custom sink needs nothing but its HOCON block.
/// </summary>
public static class SinkTypeLoader
{
    private const string ValidClass =
        "\"Namespace.Type, Assembly\" naming a public class that derives from " +
        "TaskstatsActors.Collector.Sinks.TaskstatsSink and has a public constructor taking a SinkContext";

    private static string Valid => IsNativeBuild
        ? ValidClass + ", in an assembly this native build was compiled with"
        : ValidClass + "; give assembly-path (the .dll, relative to the config file's directory, or absolute) " +
          "when the assembly is not beside the executable";

    // The native (AOT) build holds only the assemblies it was compiled with and cannot load others at run time.
    private static bool IsNativeBuild => !RuntimeFeature.IsDynamicCodeSupported;

    private const string JitBuildAdvice =
        "sinks from assemblies of their own need the JIT build: run `dotnet run -c Release --project src/TaskstatsActors.Cli -- collect`, " +
        "or reference the sink's project from src/TaskstatsActors.Cli, rebuild, and drop assembly-path";

    /// <summary>Loads and checks the sink class of the block at <paramref name="sinkKey"/>.</summary>
    /// <param name="sinkKey">The sink block's HOCON path, e.g. <c>taskstats.sinks.jsonl</c>, for messages.</param>
    /// <param name="typeName">The <c>class</c> value.</param>
    /// <param name="assemblyPath">The <c>assembly-path</c> value, or null.</param>
    /// <param name="baseDirectory">Where a relative <paramref name="assemblyPath"/> starts; null for the working directory.</param>
    /// <exception cref="ConfigException">The class does not load, or is not a sink.</exception>
    public static Type Load(string sinkKey, string typeName, string? assemblyPath, string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(sinkKey);
        ArgumentNullException.ThrowIfNull(typeName);
        var key = sinkKey + ".class";
        ConfigException Refuse(string problem, Exception? cause = null) => new(key, typeName, problem, Valid, cause);

        if (string.IsNullOrWhiteSpace(typeName))
            throw Refuse("the class name is empty");
        if (!TypeName.TryParse(typeName.AsSpan().Trim(), out var parsed))
            throw Refuse("is not a type name");

        var type = string.IsNullOrWhiteSpace(assemblyPath)
            ? FromLoadedAssemblies(typeName.Trim(), parsed, Refuse)
            : FromAssemblyPath(typeName.Trim(), parsed, assemblyPath, baseDirectory, Refuse);
        EnsureSink(type, Refuse);
        return type;
    }

    /// <summary>The file <paramref name="assemblyPath"/> names: absolute as is, else under <paramref name="baseDirectory"/> (or the working directory).</summary>
    public static string ResolveAssemblyPath(string assemblyPath, string? baseDirectory) =>
        Path.GetFullPath(Path.IsPathRooted(assemblyPath)
            ? assemblyPath
            : Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), assemblyPath));

    private static Type FromLoadedAssemblies(string typeName, TypeName parsed, Func<string, Exception?, ConfigException> refuse)
    {
        var assemblyName = parsed.AssemblyName?.Name;
        try
        {
            // With no assembly named, Type.GetType looks in this assembly and the core library.
            var type = Type.GetType(typeName, Assembly.Load, null, throwOnError: true)!;
            return type;
        }
        catch (TypeLoadException e)
        {
            throw refuse(assemblyName is null
                ? $"type {parsed.FullName} is not in {typeof(SinkTypeLoader).Assembly.GetName().Name}; a type elsewhere needs its assembly named"
                : $"assembly {assemblyName} loaded, but has no type {parsed.FullName}", e);
        }
        catch (FileNotFoundException e) when (IsNativeBuild)
        {
            throw refuse($"assembly {e.FileName ?? assemblyName} is not part of this native build; {JitBuildAdvice}", e);
        }
        catch (FileNotFoundException e)
        {
            throw refuse($"assembly {e.FileName ?? assemblyName} was not found beside the executable ({AppContext.BaseDirectory}) " +
                         "and no assembly-path is given", e);
        }
        catch (Exception e) when (e is FileLoadException or BadImageFormatException or ArgumentException)
        {
            throw refuse($"cannot load assembly {assemblyName}: {e.Message}", e);
        }
    }

    private static Type FromAssemblyPath(
        string typeName, TypeName parsed, string assemblyPath, string? baseDirectory, Func<string, Exception?, ConfigException> refuse)
    {
        var file = ResolveAssemblyPath(assemblyPath, baseDirectory);
        if (IsNativeBuild)
            throw refuse($"assembly-path {file} cannot be loaded by the native build, which runs only the code it was compiled with; {JitBuildAdvice}", null);
        if (!File.Exists(file))
            throw refuse($"assembly-path \"{assemblyPath}\" is {file}, which does not exist", null);

        Assembly loaded;
        try
        {
            // The default context, so that the sink shares TaskstatsSink, Akka and the events with us.
            // A file whose assembly is already loaded (same name and version) yields the loaded one.
            loaded = AssemblyLoadContext.Default.LoadFromAssemblyPath(file);
        }
        catch (BadImageFormatException e)
        {
            throw refuse($"assembly-path {file} exists but is not a .NET assembly", e);
        }
        catch (Exception e) when (e is FileLoadException or IOException or UnauthorizedAccessException)
        {
            throw refuse($"assembly-path {file} exists but cannot be loaded: {e.Message}", e);
        }

        var loadedName = loaded.GetName().Name;
        var assemblyName = parsed.AssemblyName?.Name;
        if (assemblyName is not null && !string.Equals(assemblyName, loadedName, StringComparison.OrdinalIgnoreCase))
            throw refuse($"the class names assembly {assemblyName}, but assembly-path {file} holds assembly {loadedName}", null);

        try
        {
            // Hand the assembly from the file to Type.GetType for the name's assembly part; any other
            // assembly the name mentions (generic arguments) loads the usual way.
            var type = assemblyName is null
                ? loaded.GetType(parsed.FullName, throwOnError: true)!
                : Type.GetType(typeName,
                    name => string.Equals(name.Name, loadedName, StringComparison.OrdinalIgnoreCase) ? loaded : Assembly.Load(name),
                    null, throwOnError: true)!;
            return type;
        }
        catch (TypeLoadException e)
        {
            throw refuse($"assembly {loadedName} (from {file}) has no type {parsed.FullName}", e);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or ArgumentException)
        {
            throw refuse($"cannot load a type {parsed.FullName} needs: {e.Message}", e);
        }
    }

    private static void EnsureSink(Type type, Func<string, Exception?, ConfigException> refuse)
    {
        var name = type.FullName ?? type.Name;
        if (!typeof(TaskstatsSink).IsAssignableFrom(type))
            throw refuse($"{name} is not a sink: it does not derive from {typeof(TaskstatsSink).FullName}", null);
        if (type.IsAbstract)
            throw refuse($"{name} is abstract, so it cannot be created", null);
        if (type.ContainsGenericParameters)
            throw refuse($"{name} is an open generic type; name its type arguments", null);
        if (type.GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(SinkContext)]) is null)
            throw refuse($"{name} is not a usable sink: it has no public constructor taking a SinkContext " +
                         $"(public {type.Name}(SinkContext context) : base(context))", null);
    }
}
